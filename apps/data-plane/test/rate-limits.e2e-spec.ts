/**
 * Per-tenant and per-user rate limits end to end: overrides set through the control plane's
 * limits API, enforced by the data plane on Redis, isolated between tenants and between users.
 *
 * Each limit below is set before the data plane first sees the tenant's host, so the first
 * request already resolves the tenant with its override and counts start from zero.
 */
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import request, { type Response } from 'supertest';
import {
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('rate limits', () => {
  let platform: RunningPlatform;
  let db: Client;
  let redis: Redis;

  const dp = () => request(platform.dataPlaneUrl);
  const admin = () => ({ Authorization: `Bearer ${platform.adminToken}` });
  const getOn = (tenant: TenantSummary, path: string, token?: string) => {
    const call = dp().get(path).set('Host', platform.hostOf(tenant.slug));
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  };
  const putLimits = (idOrSlug: string, body: unknown) =>
    platform
      .api()
      .put(`/v1/tenants/${idOrSlug}/limits`)
      .set(admin())
      .send(body as object);
  const getLimits = (idOrSlug: string) =>
    platform.api().get(`/v1/tenants/${idOrSlug}/limits`).set(admin());

  function headersOf(response: Response) {
    return {
      limit: response.headers['ratelimit-limit'],
      remaining: response.headers['ratelimit-remaining'],
      policy: response.headers['ratelimit-policy'],
    };
  }

  /** Polls (one request each) until `check` holds: for changes that travel by pub/sub. */
  async function eventually(
    send: () => Promise<Response>,
    check: (response: Response) => boolean,
    timeoutMs = 3_000,
  ): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await send();
      if (check(response)) return response;
      if (Date.now() > deadline) {
        throw new Error(`still ${response.status} ${JSON.stringify(headersOf(response))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  beforeAll(async () => {
    platform = await startPlatform();
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.end();
    await platform?.stop();
  });

  it('reports the tighter applicable limit on every /api response', async () => {
    const tenant = await platform.createTenant('rl-headers');
    const anonymous = await getOn(tenant, '/api/tenant');
    expect(anonymous.status).toBe(200);
    // The free plan: 600 per minute for the tenant, 300 per user.
    expect(headersOf(anonymous)).toEqual({ limit: '600', remaining: '599', policy: '600;w=60' });
    expect(Number(anonymous.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect(Number(anonymous.headers['ratelimit-reset'])).toBeLessThanOrEqual(60);

    // A login is anonymous: it counts against the tenant (2, 3) and its answer says so.
    const token = await platform.signIn('rl-headers');
    const signedIn = await getOn(tenant, '/api/projects', token);
    expect(signedIn.status).toBe(200);
    // The user's own 300 is the tighter one: 299 left of it (the tenant has 597 left).
    expect(headersOf(signedIn)).toEqual({ limit: '300', remaining: '299', policy: '300;w=60' });

    // A token that does not verify names no user: it counts against the tenant alone (the
    // fourth request: 596 left), and the guard refuses it.
    const forged = await getOn(tenant, '/api/projects', `${token.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
    expect(headersOf(forged)).toEqual({ limit: '600', remaining: '596', policy: '600;w=60' });

    // Keys carry the Redis prefix and the tenant id (and the user's id under it).
    const keys = (await redis.keys(`${platform.redisPrefix}:rl:*`)).sort();
    expect(keys).toEqual(
      expect.arrayContaining([
        `${platform.redisPrefix}:rl:tenant:${tenant.id}`,
        expect.stringMatching(new RegExp(`^${platform.redisPrefix}:rl:user:${tenant.id}:.+`)),
      ]),
    );
  });

  it('refuses a tenant over its limit with 429 while another tenant is served', async () => {
    const [noisy, quiet] = await Promise.all([
      platform.createTenant('rl-noisy'),
      platform.createTenant('rl-quiet'),
    ]);
    const set = await putLimits(noisy.slug, { requestsPerMinute: 5 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      tenantId: noisy.id,
      plan: 'free',
      overrides: { requestsPerMinute: 5 },
      effective: { requestsPerMinute: 5, requestsPerMinutePerUser: 300 },
      defaults: { requestsPerMinute: 600 },
    });

    const noisyStatuses: number[] = [];
    const quietStatuses: number[] = [];
    let refusal: Response | undefined;
    let lastRefusal: Response | undefined;
    for (let i = 0; i < 10; i++) {
      const [fromNoisy, fromQuiet] = await Promise.all([
        getOn(noisy, '/api/tenant'),
        getOn(quiet, '/api/tenant'),
      ]);
      noisyStatuses.push(fromNoisy.status);
      quietStatuses.push(fromQuiet.status);
      if (fromNoisy.status === 200) {
        expect(headersOf(fromNoisy)).toEqual({
          limit: '5',
          remaining: String(4 - i),
          policy: '5;w=60',
        });
      }
      if (fromNoisy.status === 429) {
        refusal ??= fromNoisy;
        lastRefusal = fromNoisy;
      }
    }
    expect(noisyStatuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
    expect(quietStatuses).toEqual(Array(10).fill(200));

    expect(refusal!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(Number(refusal!.headers['retry-after'])).toBeLessThanOrEqual(120);
    expect(headersOf(refusal!)).toEqual({ limit: '5', remaining: '0', policy: '5;w=60' });
    expect(refusal!.body).toEqual({
      error: 'rate_limited',
      message: expect.stringContaining('5 requests per minute'),
      details: [
        {
          field: 'requestsPerMinute',
          rule: 'tenant-rate-limit',
          message: expect.any(String),
        },
      ],
    });

    // Later refusals come from the in-memory block, answered ahead of Nest (RateLimitGate):
    // the same answer.
    expect(lastRefusal!.body).toEqual({
      error: 'rate_limited',
      message: expect.stringContaining('5 requests per minute'),
      details: [
        { field: 'requestsPerMinute', rule: 'tenant-rate-limit', message: expect.any(String) },
      ],
    });
    expect(lastRefusal!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(headersOf(lastRefusal!)).toEqual({ limit: '5', remaining: '0', policy: '5;w=60' });
    expect(lastRefusal!.headers['content-type']).toMatch(/^application\/json/);

    // Refused before any route: a login, a token check or an unknown path get the same 429.
    const login = await dp()
      .post('/api/auth/login')
      .set('Host', platform.hostOf(noisy.slug))
      .send({ email: 'nobody@rl-noisy.test', password: 'whatever-it-is-1' });
    expect(login.status).toBe(429);
    const withToken = await getOn(noisy, '/api/projects', 'not.a.real-token');
    expect(withToken.status).toBe(429);

    const metrics = await request(platform.dataPlaneUrl).get('/metrics');
    expect(metrics.text).toMatch(/data_plane_rate_limited_requests_total\{limit="tenant"\} [1-9]/);
    // No tenant ids in labels.
    expect(metrics.text).not.toContain(noisy.id);

    // The change is audited with what it was before and after.
    const { rows } = await db.query<{ before: unknown; after: unknown }>(
      `SELECT before, after FROM platform.audit_log
        WHERE tenant_id = $1 AND action = 'tenant.limits' ORDER BY id`,
      [noisy.id],
    );
    expect(rows).toEqual([
      { before: { limitOverrides: {} }, after: { limitOverrides: { requestsPerMinute: 5 } } },
    ]);
  });

  it('applies a changed override without a restart, and null restores the plan', async () => {
    const tenant = await platform.createTenant('rl-change');
    await putLimits(tenant.id, { requestsPerMinute: 2 }).expect(200);
    expect((await getOn(tenant, '/api/tenant')).status).toBe(200);
    expect((await getOn(tenant, '/api/tenant')).status).toBe(200);
    expect((await getOn(tenant, '/api/tenant')).status).toBe(429);

    await putLimits(tenant.id, { requestsPerMinute: 50 }).expect(200);
    const raised = await eventually(
      () => getOn(tenant, '/api/tenant'),
      (response) => response.status === 200,
    );
    expect(headersOf(raised).limit).toBe('50');

    const restored = await putLimits(tenant.id, { requestsPerMinute: null });
    expect(restored.status).toBe(200);
    expect(restored.body.overrides).toEqual({});
    expect(restored.body.effective.requestsPerMinute).toBe(600);
    await eventually(
      () => getOn(tenant, '/api/tenant'),
      (response) => headersOf(response).limit === '600',
    );
  });

  it('caps requests in progress per tenant (concurrentRequests) without touching another tenant', async () => {
    const [capped, other] = await Promise.all([
      platform.createTenant('rl-conc'),
      platform.createTenant('rl-conc-other'),
    ]);
    const defaults = await getLimits(capped.slug);
    expect(defaults.body.effective.concurrentRequests).toBe(4);
    // 0 leaves no slot and no line: every request of the tenant is refused at the door.
    await putLimits(capped.slug, { concurrentRequests: 0 }).expect(200);
    const refused = await eventually(
      () => getOn(capped, '/api/tenant'),
      (response) => response.status === 429,
    );
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({
      error: 'rate_limited',
      details: [{ field: 'concurrentRequests', rule: 'tenant-concurrency' }],
    });
    expect(refused.body.message).toContain('concurrentRequests');
    expect((await getOn(other, '/api/tenant')).status).toBe(200);

    await putLimits(capped.slug, { concurrentRequests: null }).expect(200);
    await eventually(
      () => getOn(capped, '/api/tenant'),
      (response) => response.status === 200,
    );
    // Thirty at once with 4 slots and a line of 32: the line absorbs them, none refused.
    const burst = await Promise.all(Array.from({ length: 30 }, () => getOn(capped, '/api/tenant')));
    expect(burst.map((response) => response.status)).toEqual(Array(30).fill(200));
  });

  it('holds no slot for a body still on its way, and resumes waiting writes as their own user', async () => {
    const tenant = await platform.createTenant('rl-slow');
    // Set before the data plane first sees the host: the first request resolves it with 2.
    await putLimits(tenant.id, { concurrentRequests: 2 }).expect(200);
    const [first, second] = [
      await platform.signIn('rl-slow', 'first@rl-slow.test', 'admin'),
      await platform.signIn('rl-slow', 'second@rl-slow.test', 'admin'),
    ];
    // Two clients, no credentials, send half a body each and stop: as many as the slots.
    const { port } = new URL(platform.dataPlaneUrl);
    const stalled = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<Socket>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              socket.write(
                `POST /api/auth/login HTTP/1.1\r\nHost: ${platform.hostOf(tenant.slug)}\r\n` +
                  'Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{"e',
              );
              resolve(socket);
            });
          }),
      ),
    );
    try {
      // The tenant's API still answers (it waited for those sockets' 408 before).
      const meanwhile = await getOn(tenant, '/api/tenant').timeout(5_000);
      expect(meanwhile.status).toBe(200);
      expect(stalled.every((socket) => !socket.destroyed)).toBe(true);
    } finally {
      stalled.forEach((socket) => socket.destroy());
    }

    // Twelve writes from two users at once through 2 slots: most wait for another request to
    // finish, and each must still be recorded as its own user's.
    const writes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        dp()
          .post('/api/projects')
          .set('Host', platform.hostOf(tenant.slug))
          .set('Authorization', `Bearer ${i % 2 === 0 ? first : second}`)
          .send({ name: `write ${i}` }),
      ),
    );
    expect(writes.map((response) => response.status)).toEqual(Array(12).fill(201));
    const { rows } = await db.query<{ name: string; email: string }>(
      `SELECT p.name, u.email FROM "${tenant.schema}".projects p
         JOIN "${tenant.schema}".users u ON u.id = p.created_by ORDER BY p.name`,
    );
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      const index = Number(row.name.split(' ')[1]);
      expect(row.email).toBe(index % 2 === 0 ? 'first@rl-slow.test' : 'second@rl-slow.test');
    }
  });

  it('limits one user without limiting another user of the same tenant', async () => {
    const tenant = await platform.createTenant('rl-users');
    await putLimits(tenant.id, { requestsPerMinutePerUser: 3 }).expect(200);
    const [first, second] = [
      await platform.signIn('rl-users', 'first@rl-users.test'),
      await platform.signIn('rl-users', 'second@rl-users.test'),
    ];

    const firstStatuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await getOn(tenant, '/api/projects', first);
      firstStatuses.push(response.status);
      if (response.status === 200) {
        expect(headersOf(response)).toEqual({
          limit: '3',
          remaining: String(2 - i),
          policy: '3;w=60',
        });
      } else refusal ??= response;
    }
    expect(firstStatuses).toEqual([200, 200, 200, 429, 429]);
    expect(refusal!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(refusal!.body).toMatchObject({
      error: 'rate_limited',
      details: [{ field: 'requestsPerMinutePerUser', rule: 'user-rate-limit' }],
    });

    for (let i = 0; i < 3; i++) {
      expect((await getOn(tenant, '/api/projects', second)).status).toBe(200);
    }
    // The tenant as a whole is far from its 600.
    const anonymous = await getOn(tenant, '/api/tenant');
    expect(anonymous.status).toBe(200);
    expect(headersOf(anonymous).limit).toBe('600');

    const metrics = await request(platform.dataPlaneUrl).get('/metrics');
    expect(metrics.text).toMatch(/data_plane_rate_limited_requests_total\{limit="user"\} [1-9]/);
  });

  it('refuses invalid overrides with 400 naming the field, and changes nothing', async () => {
    const tenant = await platform.createTenant('rl-invalid');
    await putLimits(tenant.id, { maxUsers: 7 }).expect(200);
    const before = (await getLimits(tenant.id).expect(200)).body as unknown;
    const auditCount = async () =>
      (
        await db.query<{ count: number }>(
          'SELECT count(*)::int AS count FROM platform.audit_log WHERE tenant_id = $1',
          [tenant.id],
        )
      ).rows[0].count;
    const entries = await auditCount();

    const cases: [unknown, string, string][] = [
      [{ requestsPerMinute: -1 }, 'requestsPerMinute', 'non-negative-integer'],
      [{ requestsPerMinute: 1.5 }, 'requestsPerMinute', 'non-negative-integer'],
      [{ requestsPerMinute: '100' }, 'requestsPerMinute', 'non-negative-integer'],
      [{ maxUsers: 1e300 }, 'maxUsers', 'non-negative-integer'],
      [{ requestsPerSecond: 10 }, 'requestsPerSecond', 'unknown-limit'],
      [{ maxUsers: 3, bogus: null }, 'bogus', 'unknown-limit'],
      [{}, '(body)', 'not-empty'],
    ];
    for (const [body, field, rule] of cases) {
      const response = await putLimits(tenant.id, body);
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(response.body).toMatchObject({
        error: 'validation_failed',
        message: expect.stringContaining(field === '(body)' ? 'limit' : field),
        details: [{ field, rule, message: expect.any(String) }],
      });
    }
    // Refused by the JSON body rule before the limits are looked at.
    const array = await putLimits(tenant.id, [1, 2]);
    expect(array.status).toBe(400);
    expect(array.body).toEqual({
      error: 'malformed_json',
      message: 'request body must be a JSON object',
    });
    expect((await getLimits(tenant.id)).body).toEqual(before);
    expect(await auditCount()).toBe(entries);
    expect(before).toMatchObject({ overrides: { maxUsers: 7 }, effective: { maxUsers: 7 } });

    await putLimits('no-such-tenant', { maxUsers: 1 }).expect(404);
  });
});
