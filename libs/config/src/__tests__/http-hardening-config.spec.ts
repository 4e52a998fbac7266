import {
  ConfigValidationError,
  loadControlPlaneConfig,
  loadDataPlaneConfig,
} from '../config.loader';

describe('HTTP hardening settings', () => {
  it('defaults to no CORS origin, 30 s timeouts and the documented body limits', () => {
    const control = loadControlPlaneConfig({});
    const data = loadDataPlaneConfig({});
    for (const config of [control, data]) {
      expect(config.http).toEqual({ corsAllowedOrigins: [], requestTimeoutMs: 30_000 });
    }
    expect(control.bodyLimit).toBe('64kb');
    expect(data.bodyLimit).toBe('100kb');
  });

  it('reads exact origins, trimmed', () => {
    const config = loadDataPlaneConfig({
      CORS_ALLOWED_ORIGINS: ' https://app.example.com , http://localhost:5173 ',
      REQUEST_TIMEOUT_MS: '5000',
    });
    expect(config.http).toEqual({
      corsAllowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
      requestTimeoutMs: 5000,
    });
    expect(loadControlPlaneConfig({ CONTROL_PLANE_BODY_LIMIT: '1mb' }).bodyLimit).toBe('1mb');
  });

  it.each([
    ['a wildcard', '*'],
    ['a path', 'https://app.example.com/'],
    ['no scheme', 'app.example.com'],
    ['another scheme', 'ftp://app.example.com'],
    ['a trailing wildcard host', 'https://*.example.com'],
  ])('refuses %s as an origin, naming the variable', (_label, value) => {
    expect(() => loadControlPlaneConfig({ CORS_ALLOWED_ORIGINS: value })).toThrow(
      ConfigValidationError,
    );
    expect(() => loadDataPlaneConfig({ CORS_ALLOWED_ORIGINS: value })).toThrow(
      /CORS_ALLOWED_ORIGINS/,
    );
  });

  it('refuses a request timeout under 100 ms and a malformed body limit', () => {
    expect(() => loadDataPlaneConfig({ REQUEST_TIMEOUT_MS: '10' })).toThrow(/REQUEST_TIMEOUT_MS/);
    expect(() => loadControlPlaneConfig({ CONTROL_PLANE_BODY_LIMIT: '1gb' })).toThrow(
      /CONTROL_PLANE_BODY_LIMIT/,
    );
  });
});
