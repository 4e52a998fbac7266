import { inspect } from 'node:util';
import {
  ConfigValidationError,
  loadControlPlaneConfig,
  loadDataPlaneConfig,
} from '../config.loader';

const KEY = 'ab'.repeat(32);

function problemsOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems.join('\n');
    throw error;
  }
  return '';
}

describe('token settings', () => {
  it('defaults: 15-minute access tokens, overlap = token lifetime, 30-day refresh tokens', () => {
    const control = loadControlPlaneConfig({});
    expect(control.jwt.ttlSeconds).toBe(900);
    expect(control.signingKeyRotationOverlapSeconds).toBe(900);
    expect(control.passwordResetTtlMinutes).toBe(60);
    expect(
      loadControlPlaneConfig({ JWT_TTL_SECONDS: '120' }).signingKeyRotationOverlapSeconds,
    ).toBe(120);
    expect(
      loadControlPlaneConfig({ SIGNING_KEY_ROTATION_OVERLAP_SECONDS: '2' })
        .signingKeyRotationOverlapSeconds,
    ).toBe(2);
    expect(loadDataPlaneConfig({}).refreshTokenTtlDays).toBe(30);
  });

  it('uses a flagged development key when SIGNING_KEY_ENCRYPTION_KEY is unset, and refuses that in production', () => {
    const development = loadDataPlaneConfig({});
    expect(development.signingKeys.developmentKey).toBe(true);
    expect(development.signingKeys.encryptionKey.reveal()).toMatch(/^[0-9a-f]{64}$/);
    expect(problemsOf(() => loadDataPlaneConfig({ NODE_ENV: 'production' }))).toMatch(
      /SIGNING_KEY_ENCRYPTION_KEY: required in production/,
    );
    const production = loadDataPlaneConfig({
      NODE_ENV: 'production',
      SIGNING_KEY_ENCRYPTION_KEY: KEY,
    });
    expect(production.signingKeys).toMatchObject({ developmentKey: false });
    expect(production.signingKeys.encryptionKey.reveal()).toBe(KEY);
  });

  it.each([
    ['too short', 'ab'.repeat(31)],
    ['not hex nor base64', 'z'.repeat(64)],
    ['base64 of 31 bytes', Buffer.alloc(31, 1).toString('base64')],
  ])('refuses a key that is %s, without echoing it', (_label, value) => {
    const problems = problemsOf(() =>
      loadControlPlaneConfig({ SIGNING_KEY_ENCRYPTION_KEY: value }),
    );
    expect(problems).toMatch(/SIGNING_KEY_ENCRYPTION_KEY: must be 64 hex characters or the base64/);
    expect(problems).not.toContain(value);
  });

  it('accepts base64 of 32 bytes and never prints the key', () => {
    const base64 = Buffer.alloc(32, 7).toString('base64');
    const config = loadControlPlaneConfig({ SIGNING_KEY_ENCRYPTION_KEY: base64 });
    expect(`${JSON.stringify(config)} ${inspect(config, { depth: 10 })}`).not.toContain(base64);
  });

  it('refuses a negative overlap and a zero refresh lifetime', () => {
    expect(
      problemsOf(() => loadControlPlaneConfig({ SIGNING_KEY_ROTATION_OVERLAP_SECONDS: '-1' })),
    ).toMatch(/SIGNING_KEY_ROTATION_OVERLAP_SECONDS/);
    expect(problemsOf(() => loadDataPlaneConfig({ REFRESH_TOKEN_TTL_DAYS: '0' }))).toMatch(
      /REFRESH_TOKEN_TTL_DAYS/,
    );
  });
});
