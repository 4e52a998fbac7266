/**
 * Operator access over HTTP against the real control plane (PostgreSQL, Redis): sign-in and
 * sessions in cookies, CSRF, login throttling, API keys, operator administration, the bootstrap
 * token and the CLI. What the API cannot show (digests, timestamps, revocations) is read from
 * the registry directly.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import request, { type Response } from 'supertest';
import { loadControlPlaneConfig } from '@platform/config';
import { createControlPlaneApp } from '../src/control-plane.app';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';
import { runCli } from './fleet-helpers';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const GENERIC_REFUSAL = { error: 'invalid_credentials', message: 'E-mail or password is wrong' };
const API_KEY = /^tpk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;

type Role = 'admin' | 'ops' | 'sre' | 'viewer';

interface Account {
  id: string;
  email: string;
  password: string;
}

interface Session {
  cookie: string;
  csrf: string;
}

const suffix = () => randomBytes(4).toString('hex');
const idsOf = (body: unknown) => (body as { id: string }[]).map((item) => item.id);
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

let platform: RunningPlatform;
let db: Client;
let redis: Redis;

const api = () => platform.api();
const asBootstrap = { Authorization: '' };

beforeAll(async () => {
  platform = await startPlatform({ withoutWorker: true });
  asBootstrap.Authorization = `Bearer ${platform.adminToken}`;
  db = new Client({ connectionString: platform.database.url });
  await db.connect();
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await db?.end();
  await platform?.stop();
});

/** Forgets every failed sign-in, so one test's throttling does not leak into the next. */
async function clearThrottle(): Promise<void> {
  const keys = await redis.keys(`${platform.redisPrefix}:login-attempts:*`);
  if (keys.length > 0) await redis.del(...keys);
}

afterEach(clearThrottle);

async function createOperator(role: Role, password = `pw-${suffix()}-${suffix()}`) {
  const email = `${role}-${suffix()}@ops.test`;
  const response = await api()
    .post('/v1/operators')
    .set(asBootstrap)
    .send({ email, role, password, name: `${role} operator` });
  expect(response.status).toBe(201);
  return { id: response.body.operator.id as string, email, password } satisfies Account;
}

function login(email: string, password: string, app = api) {
  return app().post('/v1/auth/login').send({ email, password });
}

/** The `name=value` of the session cookie a response sets. */
function sessionCookieOf(response: Response): string {
  const header = setCookies(response).find((cookie) => /^(__Host-)?tp_session=/.test(cookie));
  if (!header) throw new Error(`no session cookie in ${JSON.stringify(response.headers)}`);
  return header.split(';')[0];
}

function setCookies(response: Response): string[] {
  const header = response.headers['set-cookie'] as unknown;
  return Array.isArray(header) ? (header as string[]) : [];
}

async function signIn(account: Account): Promise<Session> {
  const response = await login(account.email, account.password);
  expect(response.status).toBe(200);
  return { cookie: sessionCookieOf(response), csrf: response.body.csrfToken as string };
}

async function newKey(session: Session, body: Record<string, unknown> = { name: 'automation' }) {
  const response = await api()
    .post('/v1/api-keys')
    .set('Cookie', session.cookie)
    .set('X-CSRF-Token', session.csrf)
    .send(body);
  expect(response.status).toBe(201);
  return response.body as { key: string; apiKey: { id: string; prefix: string } };
}

function me(headers: Record<string, string>) {
  return api().get('/v1/auth/me').set(headers);
}

function tenantBody(slug: string) {
  return { slug, name: `Tenant ${slug}`, adminEmail: `admin@${slug}.test` };
}

async function tenantCount(slug: string): Promise<number> {
  const rows = await db.query('SELECT 1 FROM platform.tenants WHERE slug = $1', [slug]);
  return rows.rowCount ?? 0;
}

/** Every platform table whose rows, as text, contain `needle` (row-to-text covers all columns). */
async function tablesContaining(needle: string): Promise<string[]> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'platform' AND table_type = 'BASE TABLE'`,
  );
  const found: string[] = [];
  for (const { table_name: table } of tables.rows) {
    const hit = await db.query(
      `SELECT 1 FROM platform."${table}" t WHERE strpos(t::text, $1) > 0 LIMIT 1`,
      [needle],
    );
    if ((hit.rowCount ?? 0) > 0) found.push(table);
  }
  return found;
}

/** A second control plane on the same registry with other settings. */
async function startControlPlane(env: Record<string, string>) {
  const app: INestApplication = await createControlPlaneApp(
    loadControlPlaneConfig({ ...platform.controlPlaneEnv, ...env }),
  );
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, api: () => request(`http://127.0.0.1:${port}`) };
}

describe('sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie (not Secure over plain HTTP) for 12 h', async () => {
    const account = await createOperator('ops');
    const response = await login(account.email.toUpperCase(), account.password);

    expect(response.status).toBe(200);
    expect(response.body.operator).toMatchObject({ email: account.email, role: 'ops' });
    expect(response.body.operator).not.toHaveProperty('passwordHash');
    expect(JSON.stringify(response.body)).not.toContain('argon2');
    expect(response.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const [cookie] = setCookies(response);
    const attributes = cookie.split(';').map((part) => part.trim());
    expect(attributes[0]).toMatch(/^tp_session=[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(attributes).not.toContain('Secure');
    expect(attributes.some((part) => /^Domain=/i.test(part))).toBe(false);
    const maxAge = Number(attributes.find((part) => part.startsWith('Max-Age='))?.slice(8));
    expect(maxAge).toBeGreaterThan(12 * 3600 - 60);
    expect(maxAge).toBeLessThanOrEqual(12 * 3600);

    const session = { Cookie: sessionCookieOf(response) };
    const who = await me(session);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({
      kind: 'session',
      role: 'ops',
      actor: `operator:${account.email}`,
      operator: { id: account.id, email: account.email },
      csrfToken: response.body.csrfToken,
    });

    const stored = await db.query(
      `SELECT o.last_login_at, s.ip, s.expires_at - s.created_at AS lifetime
         FROM platform.operators o JOIN platform.operator_sessions s ON s.operator_id = o.id
        WHERE o.id = $1`,
      [account.id],
    );
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].last_login_at).not.toBeNull();
    expect(stored.rows[0].ip).toBe('127.0.0.1');
    expect(stored.rows[0].lifetime).toMatchObject({ hours: 12 });
  });

  it('logs out: the session ends and the cookie is cleared', async () => {
    const account = await createOperator('viewer');
    const session = await signIn(account);

    const refused = await api().post('/v1/auth/logout').set('Cookie', session.cookie);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('csrf_token_invalid');
    expect((await me({ Cookie: session.cookie })).status).toBe(200);

    const response = await api()
      .post('/v1/auth/logout')
      .set('Cookie', session.cookie)
      .set('X-CSRF-Token', session.csrf);
    expect(response.status).toBe(204);
    expect(setCookies(response)[0]).toMatch(/^tp_session=;.*Expires=Thu, 01 Jan 1970/);
    const after = await me({ Cookie: session.cookie });
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('unauthenticated');
    const revoked = await db.query(
      'SELECT revoked_at FROM platform.operator_sessions WHERE operator_id = $1',
      [account.id],
    );
    expect(revoked.rows[0].revoked_at).not.toBeNull();
  });

  it('answers an unknown e-mail, a wrong password and a disabled account alike', async () => {
    const account = await createOperator('ops');
    const disabled = await createOperator('ops');
    await api().patch(`/v1/operators/${disabled.id}`).set(asBootstrap).send({ disabled: true });

    const answers = await Promise.all([
      login(`nobody-${suffix()}@ops.test`, account.password),
      login(account.email, `${account.password}x`),
      login(disabled.email, disabled.password),
    ]);
    for (const response of answers) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual(GENERIC_REFUSAL);
      expect(setCookies(response)).toEqual([]);
    }
    expect((await login(account.email, account.password)).status).toBe(200);
  });

  it('refuses a malformed sign-in with 400 and no session', async () => {
    const response = await api().post('/v1/auth/login').send({ email: 'x@ops.test' });
    expect(response.status).toBe(400);
    expect(setCookies(response)).toEqual([]);
  });
});

describe('login throttling', () => {
  it('refuses the 6th failed attempt on an account with 429 and Retry-After, even with the right password', async () => {
    const account = await createOperator('ops');
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect((await login(account.email, 'wrong password 123')).status).toBe(401);
    }
    const throttled = await login(account.email, account.password);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toBe('too_many_attempts');
    const retryAfter = Number(throttled.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(setCookies(throttled)).toEqual([]);

    // Unknown e-mails are counted the same way, so a 429 does not reveal that one exists.
    const unknown = `nobody-${suffix()}@ops.test`;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect((await login(unknown, 'wrong password 123')).status).toBe(401);
    }
    expect((await login(unknown, 'wrong password 123')).status).toBe(429);

    // Another account from the same address still signs in.
    const other = await createOperator('ops');
    expect((await login(other.email, other.password)).status).toBe(200);
  });

  it('lets a burst of parallel guesses through only up to the limit', async () => {
    const account = await createOperator('ops');
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => login(account.email, 'wrong password 123')),
    );
    const statuses = answers.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(7);
  });

  it('clears the account count on success', async () => {
    const account = await createOperator('ops');
    for (let round = 0; round < 2; round += 1) {
      for (let attempt = 1; attempt <= 4; attempt += 1) {
        expect((await login(account.email, 'wrong password 123')).status).toBe(401);
      }
      expect((await login(account.email, account.password)).status).toBe(200);
    }
  });

  it('refuses the 21st failed attempt from one address across accounts', async () => {
    const account = await createOperator('ops');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => login(`nobody-${suffix()}@ops.test`, 'wrong password 1')),
    );
    expect(answers.map((response) => response.status)).toEqual(Array(20).fill(401));
    const throttled = await login(account.email, account.password);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('sessions', () => {
  it('end at their absolute expiry', async () => {
    const session = await signIn(await createOperator('viewer'));
    expect((await me({ Cookie: session.cookie })).status).toBe(200);
    await db.query(
      `UPDATE platform.operator_sessions SET expires_at = now() - interval '1 second'
        WHERE token_hash = $1`,
      [sha256(session.cookie.split('=')[1])],
    );
    expect((await me({ Cookie: session.cookie })).status).toBe(401);
  });

  it('end after 60 idle minutes and are kept alive by use', async () => {
    const idle = await signIn(await createOperator('viewer'));
    const busy = await signIn(await createOperator('viewer'));
    const setLastSeen = (session: Session, minutesAgo: number) =>
      db.query(
        `UPDATE platform.operator_sessions
            SET last_seen_at = now() - make_interval(mins => $2)
          WHERE token_hash = $1`,
        [sha256(session.cookie.split('=')[1]), minutesAgo],
      );
    await setLastSeen(idle, 61);
    await setLastSeen(busy, 59);
    expect((await me({ Cookie: idle.cookie })).status).toBe(401);
    expect((await me({ Cookie: busy.cookie })).status).toBe(200);
    const seen = await db.query(
      `SELECT now() - last_seen_at < interval '1 minute' AS fresh
         FROM platform.operator_sessions WHERE token_hash = $1`,
      [sha256(busy.cookie.split('=')[1])],
    );
    expect(seen.rows[0].fresh).toBe(true);
  });

  it('end when their operator is disabled; the role is read on every request', async () => {
    const account = await createOperator('viewer');
    const session = await signIn(account);
    const withSession = (slug: string) =>
      api()
        .post('/v1/tenants')
        .set('Cookie', session.cookie)
        .set('X-CSRF-Token', session.csrf)
        .send(tenantBody(slug));

    const refused = await withSession(`role-${suffix()}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'forbidden' });
    expect(refused.body.message).toMatch(/needs the ops role/);

    await api().patch(`/v1/operators/${account.id}`).set(asBootstrap).send({ role: 'ops' });
    const slug = `role-${suffix()}`;
    expect((await withSession(slug)).status).toBe(202);
    expect(await tenantCount(slug)).toBe(1);

    await api().patch(`/v1/operators/${account.id}`).set(asBootstrap).send({ disabled: true });
    expect((await me({ Cookie: session.cookie })).status).toBe(401);
    await api().patch(`/v1/operators/${account.id}`).set(asBootstrap).send({ disabled: false });
    // Re-enabling does not bring a disabled session back.
    expect((await me({ Cookie: session.cookie })).status).toBe(401);
  });

  it('other sessions end when an operator changes its password', async () => {
    const account = await createOperator('sre');
    const [first, second] = [await signIn(account), await signIn(account)];
    const newPassword = `new-${suffix()}-${suffix()}`;

    const wrong = await api()
      .post('/v1/auth/password')
      .set('Cookie', first.cookie)
      .set('X-CSRF-Token', first.csrf)
      .send({ currentPassword: 'not the password', newPassword });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('current_password_wrong');

    const weak = await api()
      .post('/v1/auth/password')
      .set('Cookie', first.cookie)
      .set('X-CSRF-Token', first.csrf)
      .send({ currentPassword: account.password, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error).toBe('weak_password');

    const changed = await api()
      .post('/v1/auth/password')
      .set('Cookie', first.cookie)
      .set('X-CSRF-Token', first.csrf)
      .send({ currentPassword: account.password, newPassword });
    expect(changed.status).toBe(204);
    expect((await me({ Cookie: first.cookie })).status).toBe(200);
    expect((await me({ Cookie: second.cookie })).status).toBe(401);
    expect((await login(account.email, account.password)).status).toBe(401);
    expect((await login(account.email, newPassword)).status).toBe(200);
  });
});

describe('CSRF', () => {
  it('refuses cookie-authenticated writes without the session’s token, and they change nothing', async () => {
    const account = await createOperator('ops');
    const session = await signIn(account);
    const other = await signIn(await createOperator('ops'));
    const slug = `csrf-${suffix()}`;
    const attempts: [string, string | undefined][] = [
      ['no token', undefined],
      ['a made-up token', randomBytes(32).toString('base64url')],
      ['another session’s token', other.csrf],
      ['an empty token', ''],
    ];
    for (const [label, token] of attempts) {
      let call = api().post('/v1/tenants').set('Cookie', session.cookie);
      if (token !== undefined) call = call.set('X-CSRF-Token', token);
      const response = await call.send(tenantBody(slug));
      expect({ label, status: response.status, error: response.body.error }).toEqual({
        label,
        status: 403,
        error: 'csrf_token_invalid',
      });
    }
    expect(await tenantCount(slug)).toBe(0);

    // GETs need no token; the right token lets the write through.
    expect((await api().get('/v1/tenants').set('Cookie', session.cookie)).status).toBe(200);
    const created = await api()
      .post('/v1/tenants')
      .set('Cookie', session.cookie)
      .set('X-CSRF-Token', session.csrf)
      .send(tenantBody(slug));
    expect(created.status).toBe(202);
    expect(await tenantCount(slug)).toBe(1);
  });

  it('needs no token with an API key, and a bad bearer is not rescued by a good cookie', async () => {
    const session = await signIn(await createOperator('ops'));
    const { key } = await newKey(session);
    const slug = `key-${suffix()}`;
    const created = await api()
      .post('/v1/tenants')
      .set('Authorization', `Bearer ${key}`)
      .send(tenantBody(slug));
    expect(created.status).toBe(202);

    const mixed = await api()
      .get('/v1/tenants')
      .set('Cookie', session.cookie)
      .set('Authorization', `Bearer ${key.slice(0, -1)}x`);
    expect(mixed.status).toBe(401);
  });
});

describe('API keys', () => {
  it('are shown once and stored only as a digest', async () => {
    const account = await createOperator('ops');
    const session = await signIn(account);
    const { key, apiKey } = await newKey(session, { name: 'deploys' });

    expect(key).toMatch(API_KEY);
    expect(key.startsWith(`${apiKey.prefix}_`)).toBe(true);
    expect(apiKey).toMatchObject({ name: 'deploys', status: 'active', operatorId: account.id });

    const listed = await api().get('/v1/api-keys').set('Cookie', session.cookie);
    expect(listed.status).toBe(200);
    expect((listed.body as { prefix: string }[]).map((item) => item.prefix)).toEqual([
      apiKey.prefix,
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(apiKey.prefix.length + 1));

    // Neither the key, its secret part, nor the session token is anywhere in the registry.
    const secretPart = key.slice(apiKey.prefix.length + 1);
    const sessionToken = session.cookie.split('=')[1];
    expect(await tablesContaining(key)).toEqual([]);
    expect(await tablesContaining(secretPart)).toEqual([]);
    expect(await tablesContaining(sessionToken)).toEqual([]);
    // ... while what is stored is the digest, and the prefix is findable.
    expect(await tablesContaining(sha256(key))).toEqual(['api_keys']);
    expect(await tablesContaining(sha256(sessionToken))).toEqual(['operator_sessions']);
    expect(await tablesContaining(apiKey.prefix)).toContain('api_keys');
  });

  it('act with their owner’s role and record their last use at most once a minute', async () => {
    const account = await createOperator('viewer');
    const { key, apiKey } = await newKey(await signIn(account));
    const lastUsed = async () =>
      (
        await db.query<{ last_used_at: Date | null }>(
          'SELECT last_used_at FROM platform.api_keys WHERE id = $1',
          [apiKey.id],
        )
      ).rows[0].last_used_at;
    expect(await lastUsed()).toBeNull();

    const bearer = { Authorization: `Bearer ${key}` };
    const who = await me(bearer);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({
      kind: 'api-key',
      role: 'viewer',
      actor: `api-key:${apiKey.prefix}`,
      csrfToken: null,
      operator: { id: account.id },
    });
    const first = await lastUsed();
    expect(first).not.toBeNull();
    expect((await api().get('/v1/tenants').set(bearer)).status).toBe(200);
    expect(await lastUsed()).toEqual(first);
    const refused = await api()
      .post('/v1/tenants')
      .set(bearer)
      .send(tenantBody(`k-${suffix()}`));
    expect(refused.status).toBe(403);

    await db.query(
      `UPDATE platform.api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = $1`,
      [apiKey.id],
    );
    const old = await lastUsed();
    expect((await me(bearer)).status).toBe(200);
    expect((await lastUsed())!.getTime()).toBeGreaterThan(old!.getTime());
  });

  it('stop working when revoked or expired, or when their operator is disabled', async () => {
    const account = await createOperator('ops');
    const session = await signIn(account);
    const [revoked, expired, owned] = [
      await newKey(session, { name: 'to revoke' }),
      await newKey(session, { name: 'to expire', expiresAt: '2999-01-01T00:00:00Z' }),
      await newKey(session, { name: 'of a disabled operator' }),
    ];
    for (const { key } of [revoked, expired, owned]) {
      expect((await me({ Authorization: `Bearer ${key}` })).status).toBe(200);
    }

    const revoke = await api()
      .delete(`/v1/api-keys/${revoked.apiKey.id}`)
      .set('Cookie', session.cookie)
      .set('X-CSRF-Token', session.csrf);
    expect(revoke.status).toBe(200);
    expect(revoke.body.status).toBe('revoked');
    const unauthenticated = await me({ Authorization: `Bearer ${revoked.key}` });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body.error).toBe('unauthenticated');

    await db.query(
      `UPDATE platform.api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [expired.apiKey.id],
    );
    expect((await me({ Authorization: `Bearer ${expired.key}` })).status).toBe(401);
    const listed = await api().get('/v1/api-keys').set('Cookie', session.cookie);
    const statusOf = (id: string) =>
      (listed.body as { id: string; status: string }[]).find((item) => item.id === id)?.status;
    expect(statusOf(expired.apiKey.id)).toBe('expired');

    await api().patch(`/v1/operators/${account.id}`).set(asBootstrap).send({ disabled: true });
    expect((await me({ Authorization: `Bearer ${owned.key}` })).status).toBe(401);
  });

  it('refuses an expiry in the past, and minting keys with a key or the bootstrap token', async () => {
    const session = await signIn(await createOperator('ops'));
    const past = await api()
      .post('/v1/api-keys')
      .set('Cookie', session.cookie)
      .set('X-CSRF-Token', session.csrf)
      .send({ name: 'late', expiresAt: '2001-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    const blank = await api()
      .post('/v1/api-keys')
      .set('Cookie', session.cookie)
      .set('X-CSRF-Token', session.csrf)
      .send({ name: '   ' });
    expect(blank.status).toBe(400);
    expect(blank.body.details).toEqual([
      { field: 'name', rule: 'minLength', message: 'name must not be empty' },
    ]);

    const { key } = await newKey(session);
    for (const bearer of [key, platform.adminToken]) {
      const response = await api()
        .post('/v1/api-keys')
        .set('Authorization', `Bearer ${bearer}`)
        .send({ name: 'successor' });
      expect(response.status).toBe(409);
      expect(response.body.error).toBe('operator_required');
    }
  });

  it('reads the Bearer scheme case-insensitively, but never the credential', async () => {
    const session = await signIn(await createOperator('ops'));
    const { key } = await newKey(session);
    for (const scheme of ['bearer', 'BEARER']) {
      const withKey = await me({ Authorization: `${scheme} ${key}` });
      expect(withKey.status).toBe(200);
      expect(withKey.body).toEqual((await me({ Authorization: `Bearer ${key}` })).body);
      expect((await me({ Authorization: `${scheme} ${platform.adminToken}` })).status).toBe(200);
    }
    // The key's secret (its last 43 characters) with every letter's case swapped.
    const swapped = [...key.slice(-43)]
      .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
      .join('');
    expect(swapped).not.toBe(key.slice(-43));
    expect((await me({ Authorization: `Bearer ${key.slice(0, -43)}${swapped}` })).status).toBe(401);
  });

  it('are each operator’s own; admins see and revoke all', async () => {
    const [alice, bob, admin] = [
      await createOperator('sre'),
      await createOperator('sre'),
      await createOperator('admin'),
    ];
    const [aliceSession, bobSession, adminSession] = [
      await signIn(alice),
      await signIn(bob),
      await signIn(admin),
    ];
    const aliceKey = await newKey(aliceSession);
    const bobKey = await newKey(bobSession);

    const bobSees = await api().get('/v1/api-keys').set('Cookie', bobSession.cookie);
    expect(idsOf(bobSees.body)).toEqual([bobKey.apiKey.id]);
    const bobRevokes = await api()
      .delete(`/v1/api-keys/${aliceKey.apiKey.id}`)
      .set('Cookie', bobSession.cookie)
      .set('X-CSRF-Token', bobSession.csrf);
    expect(bobRevokes.status).toBe(404);
    expect((await me({ Authorization: `Bearer ${aliceKey.key}` })).status).toBe(200);

    const adminSees = await api().get('/v1/api-keys').set('Cookie', adminSession.cookie);
    expect(idsOf(adminSees.body)).toEqual(
      expect.arrayContaining([aliceKey.apiKey.id, bobKey.apiKey.id]),
    );
    const adminRevokes = await api()
      .delete(`/v1/api-keys/${aliceKey.apiKey.id}`)
      .set('Cookie', adminSession.cookie)
      .set('X-CSRF-Token', adminSession.csrf);
    expect(adminRevokes.status).toBe(200);
    expect((await me({ Authorization: `Bearer ${aliceKey.key}` })).status).toBe(401);

    const audit = await db.query<{ action: string; actor: string }>(
      `SELECT action, actor FROM platform.audit_log
        WHERE action LIKE 'api_key.%' AND details->>'apiKeyId' = $1 ORDER BY id`,
      [aliceKey.apiKey.id],
    );
    expect(audit.rows).toEqual([
      { action: 'api_key.create', actor: `operator:${alice.email}` },
      { action: 'api_key.revoke', actor: `operator:${admin.email}` },
    ]);
  });
});

describe('operator administration', () => {
  it('creates an operator with a one-time password shown once', async () => {
    const email = `invited-${suffix()}@ops.test`;
    const created = await api()
      .post('/v1/operators')
      .set(asBootstrap)
      .send({ email: email.toUpperCase(), role: 'sre' });
    expect(created.status).toBe(201);
    expect(created.body.operator).toMatchObject({ email, role: 'sre', disabled: false });
    const password = created.body.oneTimePassword as string;
    expect(password.length).toBeGreaterThanOrEqual(20);

    const one = await api().get(`/v1/operators/${created.body.operator.id}`).set(asBootstrap);
    const all = await api().get('/v1/operators').set(asBootstrap);
    expect(one.status).toBe(200);
    expect(JSON.stringify([one.body, all.body])).not.toContain(password);
    expect(await tablesContaining(password)).toEqual([]);
    expect((await login(email, password)).status).toBe(200);

    const duplicate = await api()
      .post('/v1/operators')
      .set(asBootstrap)
      .send({ email: email.toUpperCase(), role: 'viewer', password: 'another fine password' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toBe('operator_email_taken');
  });

  it.each([
    ['shorter than 12 characters', 'elevenchars'],
    ['the e-mail address', '{email}'],
    ['a common password', 'password1234'],
  ])('refuses a password that is %s and creates nothing', async (_label, template) => {
    const email = `weak-${suffix()}@ops.test`;
    const response = await api()
      .post('/v1/operators')
      .set(asBootstrap)
      .send({ email, role: 'viewer', password: template.replace('{email}', email) });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('weak_password');
    const rows = await db.query('SELECT 1 FROM platform.operators WHERE email = $1', [email]);
    expect(rows.rowCount).toBe(0);
  });

  it('resets a password: a new one shown once, and the operator’s sessions end', async () => {
    const account = await createOperator('ops');
    const session = await signIn(account);
    const reset = await api()
      .post(`/v1/operators/${account.id}/password`)
      .set(asBootstrap)
      .send({});
    expect(reset.status).toBe(200);
    expect((await me({ Cookie: session.cookie })).status).toBe(401);
    expect((await login(account.email, account.password)).status).toBe(401);
    expect((await login(account.email, reset.body.oneTimePassword as string)).status).toBe(200);
  });

  it('keeps at least one enabled admin', async () => {
    const admin = await createOperator('admin');
    const others = await db.query<{ id: string }>(
      `SELECT id FROM platform.operators
        WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1`,
      [admin.id],
    );
    const otherIds = others.rows.map((row) => row.id);
    await db.query(`UPDATE platform.operators SET disabled_at = now() WHERE id = ANY($1)`, [
      otherIds,
    ]);
    try {
      for (const change of [{ role: 'ops' }, { disabled: true }]) {
        const response = await api()
          .patch(`/v1/operators/${admin.id}`)
          .set(asBootstrap)
          .send(change);
        expect(response.status).toBe(409);
        expect(response.body.error).toBe('last_admin');
      }
      // null is no value, not "keep": refused as the field's rule, not as a demotion.
      for (const [change, field, rule] of [
        [{ role: null }, 'role', 'isIn'],
        [{ disabled: null }, 'disabled', 'isBoolean'],
        [{ name: '   ' }, 'name', 'minLength'],
      ] as const) {
        const response = await api()
          .patch(`/v1/operators/${admin.id}`)
          .set(asBootstrap)
          .send(change);
        expect(response.status).toBe(400);
        expect(response.body.details).toEqual([expect.objectContaining({ field, rule })]);
      }
      const second = await createOperator('admin');
      const demoted = await api()
        .patch(`/v1/operators/${admin.id}`)
        .set(asBootstrap)
        .send({ role: 'ops' });
      expect(demoted.status).toBe(200);
      expect(demoted.body.role).toBe('ops');
      await api().patch(`/v1/operators/${second.id}`).set(asBootstrap).send({ role: 'viewer' });
    } finally {
      await db.query(`UPDATE platform.operators SET disabled_at = NULL WHERE id = ANY($1)`, [
        otherIds,
      ]);
    }
    const audit = await db.query<{ details: { before: unknown; after: unknown } }>(
      `SELECT details FROM platform.audit_log
        WHERE action = 'operator.update' AND details->>'operatorId' = $1 ORDER BY id`,
      [admin.id],
    );
    expect(audit.rows.map((row) => row.details)).toEqual([
      expect.objectContaining({
        before: { role: 'admin', name: 'admin operator', disabled: false },
        after: { role: 'ops', name: 'admin operator', disabled: false },
      }),
    ]);
  });
});

describe('bootstrap token', () => {
  it('acts as admin, recorded as bootstrap-admin', async () => {
    const who = await me(asBootstrap);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({
      kind: 'bootstrap',
      role: 'admin',
      actor: 'bootstrap-admin',
      operator: null,
    });
  });

  it('is refused with BOOTSTRAP_TOKEN_ENABLED=false; keys and sessions still work', async () => {
    const account = await createOperator('admin');
    const session = await signIn(account);
    const { key } = await newKey(session);
    const second = await startControlPlane({ BOOTSTRAP_TOKEN_ENABLED: 'false' });
    try {
      const refused = await second.api().get('/v1/tenants').set(asBootstrap);
      expect(refused.status).toBe(401);
      const withKey = await second.api().get('/v1/tenants').set('Authorization', `Bearer ${key}`);
      expect(withKey.status).toBe(200);
      expect((await second.api().get('/v1/auth/me').set('Cookie', session.cookie)).status).toBe(
        200,
      );
    } finally {
      await second.app.close();
    }
  });

  it('in production, the cookie is Secure and __Host- prefixed, and only that name counts', async () => {
    const account = await createOperator('viewer');
    const production = await startControlPlane({ NODE_ENV: 'production' });
    try {
      const response = await login(account.email, account.password, production.api);
      expect(response.status).toBe(200);
      const attributes = setCookies(response)[0]
        .split(';')
        .map((part) => part.trim());
      expect(attributes[0]).toMatch(/^__Host-tp_session=/);
      expect(attributes).toEqual(
        expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']),
      );
      const token = attributes[0].split('=')[1];
      const withHost = await production.api().get('/v1/auth/me').set('Cookie', attributes[0]);
      expect(withHost.status).toBe(200);
      const plain = await production.api().get('/v1/auth/me').set('Cookie', `tp_session=${token}`);
      expect(plain.status).toBe(401);
    } finally {
      await production.app.close();
    }
  });
});

describe('CLI', () => {
  const cliEnv = () => ({
    ...process.env,
    DATABASE_URL: platform.database.url,
    REDIS_PREFIX: platform.redisPrefix,
    PLATFORM_DOMAIN: 'platform.test',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
  });

  it('operators:create prints a password once that signs in; operators:list shows the account', async () => {
    const email = `first-admin-${suffix()}@ops.test`;
    const created = await runCli(
      ['operators:create', '--email', email, '--role', 'admin', '--name', 'First Admin'],
      cliEnv(),
    );
    expect(created.code).toBe(0);
    const password = /password \(shown once[^)]*\): (\S+)/.exec(created.stdout)?.[1];
    expect(password).toBeDefined();
    const signedIn = await login(email, password!);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.operator).toMatchObject({ email, role: 'admin', name: 'First Admin' });
    expect(await tablesContaining(password!)).toEqual([]);

    const listed = await runCli(['operators:list'], cliEnv());
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${email.replace(/\./g, '\\.')}.*admin`));
    expect(listed.stdout).not.toContain(password!);

    const again = await runCli(['operators:create', '--email', email, '--role', 'ops'], cliEnv());
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('operator_email_taken');
  });
});
