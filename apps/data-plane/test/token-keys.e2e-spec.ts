/**
 * Tenant-bound tokens, end to end (control plane, worker and data plane in this process):
 * per-tenant signing keys (created at onboarding, rotated with an overlap, looked up by kid among
 * the request's tenant's keys only), refresh tokens (single use, reuse revokes the family,
 * logout), password-reset and invite links (single use, expiring), and no key, token or secret
 * in any API response or log line.
 *
 * The rotation overlap is 2 s (SIGNING_KEY_ROTATION_OVERLAP_SECONDS), so "fails after the
 * overlap" is a short real wait. Logs are captured at debug level from both apps.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request, { type Response } from 'supertest';
import { startSmtpCapture, type SmtpCapture } from '@platform/testing';
import { SigningKeyStore } from '../../control-plane/src/signing-keys/signing-key.store';
import {
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';
import {
  TOKEN_ISSUER,
  claimsOf,
  currentSigningKey,
  headerOf,
  hmac,
  makeToken,
  signingKeysOf,
  type OpenedSigningKey,
} from '../../../test/signing-keys';

const OVERLAP_SECONDS = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Math.floor(Date.now() / 1000);
const UNAUTHENTICATED = { error: 'unauthenticated', message: expect.any(String) };

/** Every line the apps log (pino writes them to process.stdout), kept instead of printed. */
const logged: string[] = [];
const realStdoutWrite = process.stdout.write.bind(process.stdout);
function captureLogs(): void {
  (process.stdout as { write: unknown }).write = (chunk: unknown) => {
    logged.push(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
    return true;
  };
}
function releaseLogs(): void {
  (process.stdout as { write: unknown }).write = realStdoutWrite;
}

/** Key secrets, opened and sealed: never in any response or log line. */
const keySecrets = new Set<string>();
/** Tokens: only in the response that issues them (reset tokens: only in the mail), never logged. */
const tokens = new Set<string>();
/** Every response body either app sent in this file. */
const bodies: string[] = [];
const record = (response: Response): Response => {
  bodies.push(response.text ?? '');
  return response;
};

describe('tenant-bound tokens', () => {
  let platform: RunningPlatform;
  let smtp: SmtpCapture;
  let db: Client;
  let alpha: TenantSummary;
  let beta: TenantSummary;
  let alphaKey: OpenedSigningKey;
  let betaKey: OpenedSigningKey;
  let alphaUserId: string;
  const alphaEmail = 'jane@alpha-tk.test';
  const alphaPassword = 'alpha-password-123456';

  const dp = () => request(platform.dataPlaneUrl);
  const api = () => platform.api();
  const admin = () => ({ Authorization: `Bearer ${platform.adminToken}` });
  const hostOf = (tenant: TenantSummary) => platform.hostOf(tenant.slug);

  const listOn = async (tenant: TenantSummary, token: string) =>
    record(
      await dp()
        .get('/api/projects')
        .set('Host', hostOf(tenant))
        .set('Authorization', `Bearer ${token}`),
    );
  const login = async (tenant: TenantSummary, email: string, password: string) =>
    record(
      await dp().post('/api/auth/login').set('Host', hostOf(tenant)).send({ email, password }),
    );
  const refresh = async (tenant: TenantSummary, refreshToken: unknown) =>
    record(await dp().post('/api/auth/refresh').set('Host', hostOf(tenant)).send({ refreshToken }));
  const logout = async (tenant: TenantSummary, refreshToken: unknown) =>
    record(await dp().post('/api/auth/logout').set('Host', hostOf(tenant)).send({ refreshToken }));
  const keysOf = async (tenant: TenantSummary) =>
    record(await api().get(`/v1/tenants/${tenant.slug}/keys`).set(admin()));
  const rotate = async (tenant: TenantSummary) =>
    record(await api().post(`/v1/tenants/${tenant.slug}/keys/rotate`).set(admin()));

  function remember(...values: string[]): void {
    for (const value of values) tokens.add(value);
  }

  async function rememberKeys(tenant: TenantSummary): Promise<OpenedSigningKey[]> {
    const keys = await signingKeysOf(platform, tenant.id);
    const { rows } = await db.query<{ secret_sealed: string }>(
      'SELECT secret_sealed FROM platform.tenant_signing_keys WHERE tenant_id = $1',
      [tenant.id],
    );
    for (const key of keys) {
      for (const encoding of ['base64', 'hex', 'base64url'] as const) {
        keySecrets.add(key.secret.toString(encoding));
      }
    }
    for (const row of rows) {
      keySecrets.add(row.secret_sealed);
      // The sealed value's parts (iv, tag, ciphertext) on their own.
      for (const part of row.secret_sealed.split(':').slice(1)) keySecrets.add(part);
    }
    return keys;
  }

  const claimsFor = (tenant: TenantSummary, extra: Record<string, unknown> = {}) => ({
    sub: alphaUserId,
    role: 'admin',
    aud: tenant.id,
    iss: TOKEN_ISSUER,
    iat: now(),
    exp: now() + 600,
    ...extra,
  });

  beforeAll(async () => {
    captureLogs();
    smtp = await startSmtpCapture();
    platform = await startPlatform({
      controlPlaneEnv: {
        LOG_LEVEL: 'debug',
        SIGNING_KEY_ROTATION_OVERLAP_SECONDS: String(OVERLAP_SECONDS),
        PASSWORD_RESET_TTL_MINUTES: '30',
        MAIL_PROVIDER: 'smtp',
        SMTP_URL: smtp.url,
        SMTP_IGNORE_TLS: 'true',
        OUTBOX_POLL_INTERVAL_MS: '100',
      },
      dataPlaneEnv: { LOG_LEVEL: 'debug' },
    });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    [alpha, beta] = await Promise.all([
      platform.createTenant('alpha-tk'),
      platform.createTenant('beta-tk'),
    ]);
    const created = await api()
      .post(`/v1/tenants/${alpha.id}/users`)
      .set(admin())
      .send({ email: alphaEmail, role: 'admin', password: alphaPassword });
    if (created.status !== 201) throw new Error(`user: ${created.status} ${created.text}`);
    alphaUserId = created.body.id as string;
    [alphaKey] = await rememberKeys(alpha);
    [betaKey] = await rememberKeys(beta);
  });

  afterAll(async () => {
    releaseLogs();
    await db?.end();
    await platform?.stop();
    await smtp?.stop();
  });

  describe('signing keys', () => {
    it('gives each tenant its own current key at onboarding, listed without any secret', async () => {
      const listed = await keysOf(alpha);
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([
        {
          kid: alphaKey.kid,
          algorithm: 'HS256',
          createdAt: expect.any(String),
          retireAt: null,
          status: 'current',
        },
      ]);
      expect(alphaKey.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(alphaKey.kid).not.toBe(betaKey.kid);
      expect(alphaKey.kid).not.toContain(alpha.id.replace(/-/g, '').slice(0, 8));
      expect(alphaKey.secret.equals(betaKey.secret)).toBe(false);
      const sealed = await db.query<{ secret_sealed: string }>(
        'SELECT secret_sealed FROM platform.tenant_signing_keys WHERE kid = $1',
        [alphaKey.kid],
      );
      // Stored sealed (AES-256-GCM), not as the secret itself.
      expect(sealed.rows[0].secret_sealed).toMatch(/^v1:/);
      expect(sealed.rows[0].secret_sealed).not.toContain(alphaKey.secret.toString('base64'));
    });

    it('signs a login’s access token with the tenant’s key, naming it by kid, for the tenant only', async () => {
      const response = await login(alpha, alphaEmail, alphaPassword);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        expiresIn: 900,
      });
      const token = response.body.accessToken as string;
      remember(token, response.body.refreshToken as string);
      expect(headerOf(token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: alphaKey.kid });
      const claims = claimsOf(token);
      expect(claims).toMatchObject({ aud: alpha.id, iss: TOKEN_ISSUER, sub: alphaUserId });
      expect((claims.exp as number) - (claims.iat as number)).toBe(900);
      expect((await listOn(alpha, token)).status).toBe(200);
      // The same token on beta's host.
      const foreign = await listOn(beta, token);
      expect(foreign.status).toBe(401);
      expect(foreign.body).toEqual(UNAUTHENTICATED);
    });

    it.each([
      [
        'a random kid, signed with alpha’s key',
        () =>
          makeToken(
            { alg: 'HS256', kid: randomBytes(16).toString('base64url') },
            claimsFor(alpha),
            hmac('sha256', alphaKey.secret),
          ),
      ],
      [
        'no kid, signed with alpha’s key',
        () => makeToken({ alg: 'HS256' }, claimsFor(alpha), hmac('sha256', alphaKey.secret)),
      ],
      [
        'beta’s kid with beta’s valid signature, alpha as audience',
        () =>
          makeToken(
            { alg: 'HS256', kid: betaKey.kid },
            claimsFor(alpha),
            hmac('sha256', betaKey.secret),
          ),
      ],
      [
        'alpha’s kid with beta’s signature',
        () =>
          makeToken(
            { alg: 'HS256', kid: alphaKey.kid },
            claimsFor(alpha),
            hmac('sha256', betaKey.secret),
          ),
      ],
      [
        'alg none with alpha’s kid, unsigned',
        () => makeToken({ alg: 'none', kid: alphaKey.kid }, claimsFor(alpha), null),
      ],
      [
        'alg none with alpha’s kid and a real signature',
        () =>
          makeToken(
            { alg: 'none', kid: alphaKey.kid },
            claimsFor(alpha),
            hmac('sha256', alphaKey.secret),
          ),
      ],
      [
        'RS256 HMAC-signed with a public key (HS/RS confusion)',
        () => {
          const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
          return makeToken(
            { alg: 'RS256', kid: alphaKey.kid },
            claimsFor(alpha),
            hmac('sha256', pem),
          );
        },
      ],
      [
        'RS256 HMAC-signed with alpha’s secret',
        () =>
          makeToken(
            { alg: 'RS256', kid: alphaKey.kid },
            claimsFor(alpha),
            hmac('sha256', alphaKey.secret),
          ),
      ],
      [
        'HS512 with alpha’s secret',
        () =>
          makeToken(
            { alg: 'HS512', kid: alphaKey.kid },
            claimsFor(alpha),
            hmac('sha512', alphaKey.secret),
          ),
      ],
      [
        'an expired token signed with alpha’s key',
        () =>
          makeToken(
            { alg: 'HS256', kid: alphaKey.kid },
            claimsFor(alpha, { iat: now() - 1000, exp: now() - 10 }),
            hmac('sha256', alphaKey.secret),
          ),
      ],
      [
        'a token without exp',
        () =>
          makeToken(
            { alg: 'HS256', kid: alphaKey.kid },
            claimsFor(alpha, { exp: undefined }),
            hmac('sha256', alphaKey.secret),
          ),
      ],
      [
        'beta as audience, signed with alpha’s key',
        () =>
          makeToken(
            { alg: 'HS256', kid: alphaKey.kid },
            claimsFor(beta),
            hmac('sha256', alphaKey.secret),
          ),
      ],
    ])('refuses %s on alpha’s host', async (_label, token) => {
      const response = await listOn(alpha, token());
      expect(response.status).toBe(401);
      expect(response.body).toEqual(UNAUTHENTICATED);
    });

    it('accepts the hand-made token the refusals above differ from', async () => {
      const token = makeToken(
        { alg: 'HS256', kid: alphaKey.kid },
        claimsFor(alpha),
        hmac('sha256', alphaKey.secret),
      );
      expect((await listOn(alpha, token)).status).toBe(200);
      // And beta's key with beta as audience is refused on alpha's host, accepted on beta's (as
      // far as the token goes: the user does not exist there, but listing needs only a token).
      const betaToken = makeToken(
        { alg: 'HS256', kid: betaKey.kid },
        claimsFor(beta),
        hmac('sha256', betaKey.secret),
      );
      expect((await listOn(beta, betaToken)).status).toBe(200);
      expect((await listOn(alpha, betaToken)).status).toBe(401);
    });

    it('rotates: the previous key verifies during the overlap and not after; older keys retire at once', async () => {
      const before = await login(alpha, alphaEmail, alphaPassword);
      const oldToken = before.body.accessToken as string;
      expect(headerOf(oldToken).kid).toBe(alphaKey.kid);
      expect((await listOn(alpha, oldToken)).status).toBe(200); // cached as verified

      const rotated = await rotate(alpha);
      expect(rotated.status).toBe(200);
      const newKid = rotated.body.currentKid as string;
      expect(newKid).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(newKid).not.toBe(alphaKey.kid);
      expect(rotated.body.keys).toEqual([
        expect.objectContaining({ kid: newKid, retireAt: null, status: 'current' }),
        expect.objectContaining({
          kid: alphaKey.kid,
          retireAt: expect.any(String),
          status: 'retiring',
        }),
      ]);
      const retireAt = Date.parse(rotated.body.keys[1].retireAt as string);
      expect(retireAt - Date.now()).toBeLessThanOrEqual(OVERLAP_SECONDS * 1000);
      const keys = await rememberKeys(alpha);
      const newKey = keys.find((key) => key.kid === newKid)!;

      // During the overlap: the old token still works, new logins get the new key.
      expect((await listOn(alpha, oldToken)).status).toBe(200);
      let fresh = '';
      for (let i = 0; i < 20 && headerOf(fresh || 'e30.e30.').kid !== newKid; i++) {
        fresh = (await login(alpha, alphaEmail, alphaPassword)).body.accessToken as string;
      }
      expect(headerOf(fresh).kid).toBe(newKid);
      expect((await listOn(alpha, fresh)).status).toBe(200);
      // Beta is untouched.
      expect((await keysOf(beta)).body).toHaveLength(1);

      // After the overlap: the old token (verified and cached before) is refused.
      await sleep(Math.max(0, retireAt - Date.now()) + 150);
      const late = await listOn(alpha, oldToken);
      expect(late.status).toBe(401);
      expect(late.body).toEqual(UNAUTHENTICATED);
      expect((await listOn(alpha, fresh)).status).toBe(200);
      expect((await keysOf(alpha)).body[1]).toMatchObject({ kid: alphaKey.kid, status: 'retired' });

      // Two rotations in a row: the key between them stops at once, not after an overlap.
      const second = await rotate(alpha);
      expect(second.status).toBe(200);
      expect((await listOn(alpha, fresh)).status).toBe(200); // newKey is in its overlap
      const third = await rotate(alpha);
      expect(third.status).toBe(200);
      expect(third.body.keys[2]).toMatchObject({ kid: newKid, status: 'retired' });
      const handMadeWithRetired = makeToken(
        { alg: 'HS256', kid: newKid },
        claimsFor(alpha),
        hmac('sha256', newKey.secret),
      );
      // The event reaches the data plane within milliseconds.
      let status = 0;
      for (let i = 0; i < 20 && status !== 401; i++) {
        status = (await listOn(alpha, fresh)).status;
        if (status !== 401) await sleep(50);
      }
      expect(status).toBe(401);
      expect((await listOn(alpha, handMadeWithRetired)).status).toBe(401);
      await rememberKeys(alpha);
      alphaKey = await currentSigningKey(platform, alpha.id);
      expect(alphaKey.kid).toBe(third.body.currentKid);
    });

    it('writes an audit entry per rotation naming the keys, never their secrets', async () => {
      const audit = record(
        await api()
          .get(`/v1/tenants/${alpha.slug}/audit?action=tenant.signing-key.rotate`)
          .set(admin()),
      );
      expect(audit.status).toBe(200);
      expect(audit.body.items).toHaveLength(3);
      expect(audit.body.items[0]).toMatchObject({
        action: 'tenant.signing-key.rotate',
        tenantId: alpha.id,
        actor: expect.any(String),
        after: { currentKid: alphaKey.kid },
        details: { overlapSeconds: OVERLAP_SECONDS },
      });
    });

    it('refuses to rotate an unknown tenant (404) and creates no key', async () => {
      const count = async () =>
        (
          await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM platform.tenant_signing_keys',
          )
        ).rows[0].n;
      const before = await count();
      const response = record(
        await api().post('/v1/tenants/no-such-tenant/keys/rotate').set(admin()),
      );
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ error: 'tenant_not_found' });
      expect(await count()).toBe(before);
    });

    it('backfills a key at start for a tenant that has none, and re-running creates no second one', async () => {
      await db.query('DELETE FROM platform.tenant_signing_keys WHERE tenant_id = $1', [beta.id]);
      const store = platform.controlPlane.get(SigningKeyStore);
      expect(await store.backfill()).toBeGreaterThanOrEqual(1);
      expect(await store.backfill()).toBe(0);
      expect(await store.ensureKey(beta.id)).toBe(false);
      const keys = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM platform.tenant_signing_keys WHERE tenant_id = $1 AND retire_at IS NULL',
        [beta.id],
      );
      expect(keys.rows[0].n).toBe(1);
      betaKey = await currentSigningKey(platform, beta.id);
      await rememberKeys(beta);
      // The data plane still holds beta's deleted key; a token with the new kid makes it re-read
      // the keys (at most once a second), and the deleted key stops with the re-read.
      await sleep(1100);
      const withNewKey = makeToken(
        { alg: 'HS256', kid: betaKey.kid },
        claimsFor(beta),
        hmac('sha256', betaKey.secret),
      );
      expect((await listOn(beta, withNewKey)).status).toBe(200);
    });
  });

  describe('refresh tokens', () => {
    async function signIn(tenant: TenantSummary = alpha) {
      const response = await login(tenant, alphaEmail, alphaPassword);
      expect(response.status).toBe(200);
      remember(response.body.accessToken as string, response.body.refreshToken as string);
      return response.body as { accessToken: string; refreshToken: string; expiresIn: number };
    }

    it('stores only a hash of the refresh token', async () => {
      const pair = await signIn();
      const { rows } = await db.query<{ token_hash: string }>(
        `SELECT token_hash FROM "${alpha.schema}".refresh_tokens`,
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.map((row) => row.token_hash)).not.toContain(pair.refreshToken);
      expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.token_hash))).toBe(true);
    });

    it('rotates: a refresh gives a new pair, and the old refresh token is single-use', async () => {
      const first = await signIn();
      const next = await refresh(alpha, first.refreshToken);
      expect(next.status).toBe(200);
      expect(next.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        expiresIn: 900,
      });
      remember(next.body.accessToken as string, next.body.refreshToken as string);
      expect(next.body.refreshToken).not.toBe(first.refreshToken);
      expect((await listOn(alpha, next.body.accessToken as string)).status).toBe(200);
      expect(claimsOf(next.body.accessToken as string)).toMatchObject({
        sub: alphaUserId,
        aud: alpha.id,
      });
      const third = await refresh(alpha, next.body.refreshToken);
      expect(third.status).toBe(200);
      remember(third.body.refreshToken as string, third.body.accessToken as string);
    });

    it('detects reuse: presenting a spent token revokes its whole family, the thief’s and the owner’s', async () => {
      const first = await signIn();
      const other = await signIn(); // another session (family) of the same user
      const owner = await refresh(alpha, first.refreshToken);
      expect(owner.status).toBe(200);
      remember(owner.body.refreshToken as string);
      const replay = await refresh(alpha, first.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.body).toEqual({ error: 'invalid_refresh_token', message: expect.any(String) });
      // The owner's successor died with the family...
      const successor = await refresh(alpha, owner.body.refreshToken);
      expect(successor.status).toBe(401);
      const { rows } = await db.query<{ revoked: number; total: number }>(
        `SELECT count(*) FILTER (WHERE revoked_at IS NOT NULL)::int AS revoked, count(*)::int AS total
           FROM "${alpha.schema}".refresh_tokens
          WHERE family_id = (SELECT family_id FROM "${alpha.schema}".refresh_tokens
                              WHERE token_hash = encode(sha256($1::bytea), 'hex'))`,
        [first.refreshToken],
      );
      expect(rows[0]).toEqual({ revoked: 2, total: 2 });
      // ... and the user's other session is untouched.
      expect((await refresh(alpha, other.refreshToken)).status).toBe(200);
    });

    it('lets only one of two concurrent refreshes with the same token through, and revokes the family', async () => {
      const pair = await signIn();
      const answers = await Promise.all([
        refresh(alpha, pair.refreshToken),
        refresh(alpha, pair.refreshToken),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401]);
      const winner = answers.find((answer) => answer.status === 200)!;
      remember(winner.body.refreshToken as string, winner.body.accessToken as string);
      // The loser presented a spent token: the winner's successor is revoked with its family.
      expect((await refresh(alpha, winner.body.refreshToken)).status).toBe(401);
    });

    it('logs out: the session’s refresh token stops working; unknown tokens get 204 and change nothing', async () => {
      const pair = await signIn();
      const out = await logout(alpha, pair.refreshToken);
      expect(out.status).toBe(204);
      expect((await refresh(alpha, pair.refreshToken)).status).toBe(401);
      const unknown = await logout(alpha, randomBytes(32).toString('base64url'));
      expect(unknown.status).toBe(204);
    });

    it('refuses an expired refresh token', async () => {
      const pair = await signIn();
      await db.query(
        `UPDATE "${alpha.schema}".refresh_tokens SET expires_at = now() - interval '1 second'
          WHERE token_hash = encode(sha256($1::bytea), 'hex')`,
        [pair.refreshToken],
      );
      expect((await refresh(alpha, pair.refreshToken)).status).toBe(401);
    });

    it('refuses alpha’s refresh token on beta’s host, and beta’s logout cannot revoke it', async () => {
      const pair = await signIn();
      const foreign = await refresh(beta, pair.refreshToken);
      expect(foreign.status).toBe(401);
      expect((await logout(beta, pair.refreshToken)).status).toBe(204);
      expect((await refresh(alpha, pair.refreshToken)).status).toBe(200);
    });

    it.each([
      ['no token', {}],
      ['a number', { refreshToken: 42 }],
      ['a short token', { refreshToken: 'abc' }],
      ['an access token', { refreshToken: 'eyJhbGciOiJIUzI1NiJ9.e30.x' }],
      ['an extra property', { refreshToken: randomBytes(32).toString('base64url'), userId: 'x' }],
    ])('answers a refresh with %s with 400', async (_label, body) => {
      const response = record(
        await dp().post('/api/auth/refresh').set('Host', hostOf(alpha)).send(body),
      );
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'validation_failed' });
    });
  });

  describe('password reset', () => {
    let bob: { id: string; email: string };
    const bobPassword = 'bob-password-123456789';

    async function requestReset(tenant: TenantSummary, userId: string) {
      return record(
        await api().post(`/v1/tenants/${tenant.slug}/users/${userId}/password-reset`).set(admin()),
      );
    }

    /** The link from the mail the worker sent through the outbox. */
    async function mailedToken(outboxId: string): Promise<string> {
      const { rows } = await db.query<{ message_id: string }>(
        'SELECT message_id FROM platform.outbox WHERE id = $1',
        [outboxId],
      );
      const deadline = Date.now() + 10_000;
      for (;;) {
        const mail = smtp.messages.find((message) => message.messageId === rows[0].message_id);
        if (mail) {
          const match = /\/welcome\?purpose=reset&token=([A-Za-z0-9_-]{43})/.exec(mail.text);
          if (!match) throw new Error(`no reset link in: ${mail.text}`);
          remember(match[1]);
          return match[1];
        }
        if (Date.now() > deadline) throw new Error('reset mail not sent');
        await sleep(50);
      }
    }

    const resetPassword = async (tenant: TenantSummary, token: string, password: string) =>
      record(
        await dp()
          .post('/api/auth/reset-password')
          .set('Host', hostOf(tenant))
          .send({ token, password }),
      );

    beforeAll(async () => {
      const created = await api()
        .post(`/v1/tenants/${alpha.id}/users`)
        .set(admin())
        .send({ email: 'bob@alpha-tk.test', role: 'member', password: bobPassword });
      bob = { id: created.body.id as string, email: 'bob@alpha-tk.test' };
    });

    it('mails a one-time link through the outbox (no link in the response) and writes an audit entry', async () => {
      const issued = await requestReset(alpha, bob.id);
      expect(issued.status).toBe(201);
      expect(issued.body).toEqual({
        userId: bob.id,
        expiresAt: expect.any(String),
        delivery: 'mail',
        outboxId: expect.any(String),
      });
      const expiresIn = Date.parse(issued.body.expiresAt as string) - Date.now();
      expect(expiresIn).toBeGreaterThan(29 * 60_000);
      expect(expiresIn).toBeLessThanOrEqual(30 * 60_000);
      const token = await mailedToken(issued.body.outboxId as string);
      const outbox = await db.query<{ kind: string; recipient: string }>(
        'SELECT kind, recipient FROM platform.outbox WHERE id = $1',
        [issued.body.outboxId],
      );
      expect(outbox.rows[0]).toEqual({ kind: 'password-reset', recipient: bob.email });
      const stored = await db.query<{ token_hash: string }>(
        `SELECT token_hash FROM "${alpha.schema}".password_resets WHERE user_id = $1`,
        [bob.id],
      );
      expect(stored.rows.map((row) => row.token_hash)).not.toContain(token);
      const audit = await api()
        .get(`/v1/tenants/${alpha.slug}/audit?action=tenant.user.password-reset`)
        .set(admin());
      expect(audit.body.items[0]).toMatchObject({ details: { userId: bob.id, delivery: 'mail' } });
    });

    it('sets the password once, revokes the user’s refresh tokens, and refuses the link a second time', async () => {
      const session = await login(alpha, bob.email, bobPassword);
      expect(session.status).toBe(200);
      remember(session.body.refreshToken as string);
      const issued = await requestReset(alpha, bob.id);
      const token = await mailedToken(issued.body.outboxId as string);
      // Tried on beta's host first: unknown there.
      const foreign = await resetPassword(beta, token, 'new-bob-password-1');
      expect(foreign.status).toBe(400);
      expect(foreign.body).toEqual({ error: 'invalid_reset_token', message: expect.any(String) });

      const done = await resetPassword(alpha, token, 'new-bob-password-1');
      expect(done.status).toBe(204);
      expect((await login(alpha, bob.email, bobPassword)).status).toBe(401);
      expect((await login(alpha, bob.email, 'new-bob-password-1')).status).toBe(200);
      expect((await refresh(alpha, session.body.refreshToken)).status).toBe(401);

      const again = await resetPassword(alpha, token, 'third-bob-password-1');
      expect(again.status).toBe(400);
      expect(again.body).toMatchObject({ error: 'invalid_reset_token' });
      expect((await login(alpha, bob.email, 'new-bob-password-1')).status).toBe(200);
    });

    it('refuses an expired link, and a link replaced by a newer one', async () => {
      const older = await mailedToken((await requestReset(alpha, bob.id)).body.outboxId as string);
      const newer = await mailedToken((await requestReset(alpha, bob.id)).body.outboxId as string);
      expect((await resetPassword(alpha, older, 'replaced-password-1')).status).toBe(400);
      await db.query(
        `UPDATE "${alpha.schema}".password_resets SET expires_at = now() - interval '1 second'
          WHERE user_id = $1 AND used_at IS NULL`,
        [bob.id],
      );
      const expired = await resetPassword(alpha, newer, 'expired-password-1');
      expect(expired.status).toBe(400);
      expect((await login(alpha, bob.email, 'new-bob-password-1')).status).toBe(200);
    });

    it('answers an unknown or malformed user id with 404, and bad bodies with 400', async () => {
      const unknown = await requestReset(alpha, '00000000-0000-4000-8000-000000000000');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error: 'user_not_found' });
      expect((await requestReset(alpha, 'not-a-uuid')).status).toBe(404);
      // Bob's id on beta: beta has no such user.
      expect((await requestReset(beta, bob.id)).status).toBe(404);
      const short = await resetPassword(alpha, 'abc', 'whatever-password-1');
      expect(short.status).toBe(400);
      expect(short.body).toMatchObject({ error: 'validation_failed' });
      const weak = await resetPassword(alpha, randomBytes(32).toString('base64url'), 'short');
      expect(weak.status).toBe(400);
      expect(weak.body).toMatchObject({ error: 'validation_failed' });
      // Twelve blanks passed the length rule, and then signed in.
      const blank = await resetPassword(
        alpha,
        randomBytes(32).toString('base64url'),
        ' '.repeat(12),
      );
      expect(blank.status).toBe(400);
      expect(blank.body.details).toEqual([
        { field: 'password', rule: 'matches', message: 'password must not be only blanks' },
      ]);
    });
  });

  describe('invites', () => {
    const accept = async (tenant: TenantSummary, token: string, password: string) =>
      record(
        await dp()
          .post('/api/auth/accept-invite')
          .set('Host', hostOf(tenant))
          .send({ token, password }),
      );

    async function invite(email: string): Promise<string> {
      const created = record(
        await api()
          .post(`/v1/tenants/${alpha.id}/users`)
          .set(admin())
          .send({ email, role: 'member' }),
      );
      expect(created.status).toBe(201);
      const token = new URL(created.body.invite.url as string).searchParams.get('token')!;
      remember(token);
      return token;
    }

    it('is single-use: the first acceptance signs in (with a refresh token), the second is refused', async () => {
      const token = await invite('carol@alpha-tk.test');
      expect((await accept(beta, token, 'carol-password-123')).status).toBe(400);
      // A password of blanks is refused and leaves the invite unspent.
      const blank = await accept(alpha, token, ' '.repeat(12));
      expect(blank.status).toBe(400);
      expect(blank.body.details).toEqual([expect.objectContaining({ field: 'password' })]);
      const first = await accept(alpha, token, 'carol-password-123');
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        expiresIn: 900,
      });
      remember(first.body.accessToken as string, first.body.refreshToken as string);
      expect(headerOf(first.body.accessToken as string).kid).toBe(alphaKey.kid);
      expect((await refresh(alpha, first.body.refreshToken)).status).toBe(200);
      const second = await accept(alpha, token, 'mallory-password-123');
      expect(second.status).toBe(400);
      expect(second.body).toMatchObject({ error: 'invalid_invite' });
      expect((await login(alpha, 'carol@alpha-tk.test', 'carol-password-123')).status).toBe(200);
      expect((await login(alpha, 'carol@alpha-tk.test', 'mallory-password-123')).status).toBe(401);
    });

    it('expires', async () => {
      const token = await invite('dave@alpha-tk.test');
      await db.query(
        `UPDATE "${alpha.schema}".user_invites SET expires_at = now() - interval '1 second'
          WHERE token_hash = encode(sha256($1::bytea), 'hex')`,
        [token],
      );
      const late = await accept(alpha, token, 'dave-password-1234');
      expect(late.status).toBe(400);
      expect(late.body).toMatchObject({ error: 'invalid_invite' });
      expect((await login(alpha, 'dave@alpha-tk.test', 'dave-password-1234')).status).toBe(401);
    });
  });

  describe('secrets', () => {
    it('no signing key, token or reset link appears in any API response, audit entry or mail list', async () => {
      const extra = [
        await keysOf(alpha),
        record(await api().get(`/v1/tenants/${alpha.slug}/audit`).set(admin())),
        record(await api().get(`/v1/tenants/${alpha.slug}/mail`).set(admin())),
        record(await api().get(`/v1/tenants/${alpha.slug}`).set(admin())),
        record(await api().get(`/v1/tenants/${alpha.slug}/users`).set(admin())),
      ];
      expect(extra.every((response) => response.status === 200)).toBe(true);
      expect(keySecrets.size).toBeGreaterThan(20);
      expect(tokens.size).toBeGreaterThan(20);
      const text = bodies.join('\n');
      expect([...keySecrets].filter((value) => text.includes(value))).toEqual([]);
      const listings = extra.map((response) => response.text).join('\n');
      expect([...tokens].filter((value) => listings.includes(value))).toEqual([]);
    });

    it('no signing key, token or reset link appears in the logs', () => {
      const text = logged.join('');
      // The capture works: both apps logged requests at debug level.
      expect(text).toContain('"url":"/api/auth/login"');
      expect(text).toContain('/keys/rotate');
      expect([...keySecrets, ...tokens].filter((value) => text.includes(value))).toEqual([]);
    });
  });
});
