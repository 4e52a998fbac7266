/**
 * Every control-plane route × every kind of caller. The table below says which role each route
 * needs; the first test checks it against the routes the running app actually serves (Express's
 * router), so a new route cannot ship without an entry here, and an entry cannot outlive its
 * route.
 *
 * For each route and caller:
 * - refused: exactly 401 `unauthenticated` (no credential) or 403 `forbidden` (wrong role), and
 *   nothing in the registry changed. Refused requests aim at real rows with valid bodies, so a
 *   request that slipped past the guard would have done something.
 * - allowed: anything but 401/403 (and no 5xx). Allowed requests aim at ids that do not exist
 *   and send an unknown property (refused by validation), so they change nothing either: a 404
 *   or 400 here proves the guard let them through.
 *
 * Each role signs in both ways, with an API key and with a cookie session (sending its CSRF
 * token on writes); the bootstrap token counts as admin.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { Test } from 'supertest';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';

type Role = 'admin' | 'ops' | 'sre' | 'viewer';
type Need = Role | 'public';

interface Fixture {
  tenantId: string;
  runId: string;
  operatorId: string;
  apiKeyId: string;
  hostname: string;
}

interface RouteSpec {
  readonly need: Need;
  /** A valid body, for refused calls (allowed calls send one validation refuses). */
  readonly body?: (fixture: Fixture) => Record<string, unknown>;
}

const suffix = () => randomBytes(4).toString('hex');
const password = () => `pw-${suffix()}-${suffix()}`;

/** The role each route needs. `viewer`: every signed-in operator; `admin` passes everywhere. */
const ROUTES: Record<string, RouteSpec> = {
  'GET /health/live': { need: 'public' },
  'GET /health/ready': { need: 'public' },
  // Prometheus: from a lib controller with no @Roles, so the guard's fail-closed default.
  'GET /metrics': { need: 'admin' },
  // Swagger UI and the OpenAPI document: mounted on Express, outside the guard, by design.
  'GET /docs': { need: 'public' },
  'GET /docs/': { need: 'public' },
  'GET /docs/index.html': { need: 'public' },
  'GET /docs/LICENSE': { need: 'public' },
  'GET /docs/swagger-ui-init.js': { need: 'public' },
  'GET /docs/docs/swagger-ui-init.js': { need: 'public' },
  'GET /docs-json': { need: 'public' },
  'GET /docs-yaml': { need: 'public' },
  // The ops console's static files (no data; its API calls are checked like any other).
  'GET /console': { need: 'public' },
  'GET /console/:asset': { need: 'public' },

  'POST /v1/tenants': {
    need: 'ops',
    body: () => {
      const slug = `rr-${suffix()}`;
      return { slug, name: slug, adminEmail: `admin@${slug}.test` };
    },
  },
  'GET /v1/tenants': { need: 'viewer' },
  'GET /v1/tenants/:idOrSlug': { need: 'viewer' },
  'GET /v1/tenants/:idOrSlug/progress': { need: 'viewer' },
  'GET /v1/tenants/:idOrSlug/users': { need: 'viewer' },
  'GET /v1/tenants/:idOrSlug/mail': { need: 'viewer' },
  'GET /v1/tenants/:idOrSlug/audit': { need: 'viewer' },
  'GET /v1/tenants/:idOrSlug/certificates': { need: 'viewer' },
  'GET /v1/tenants/:idOrSlug/limits': { need: 'viewer' },
  'PUT /v1/tenants/:idOrSlug/limits': { need: 'ops', body: () => ({ requestsPerMinute: 1 }) },
  'POST /v1/tenants/:id/welcome-mail': { need: 'ops' },
  'POST /v1/tenants/:id/suspend': { need: 'ops' },
  'POST /v1/tenants/:id/resume': { need: 'ops' },
  'POST /v1/tenants/:id/retry': { need: 'ops' },
  'DELETE /v1/tenants/:id': { need: 'ops' },
  'POST /v1/tenants/:id/users': {
    need: 'ops',
    body: () => ({ email: `user-${suffix()}@rr.test`, role: 'member', password: password() }),
  },
  'POST /v1/tenants/:id/domains': {
    need: 'ops',
    body: () => ({ hostname: `shop-${suffix()}.example.com` }),
  },
  'GET /v1/tenants/:idOrSlug/keys': { need: 'viewer' },
  'POST /v1/tenants/:idOrSlug/keys/rotate': { need: 'ops' },
  'POST /v1/tenants/:idOrSlug/users/:userId/password-reset': { need: 'ops' },
  'GET /v1/tenants/:id/domains': { need: 'viewer' },
  'GET /v1/tenants/:id/domains/:hostname': { need: 'viewer' },
  'POST /v1/tenants/:id/domains/:hostname/verify': { need: 'ops' },
  'DELETE /v1/tenants/:id/domains/:hostname': { need: 'ops' },

  'POST /v1/migration-runs': { need: 'sre', body: () => ({ concurrency: 1 }) },
  'GET /v1/migration-runs': { need: 'viewer' },
  'GET /v1/migration-runs/:id': { need: 'viewer' },
  'GET /v1/migration-runs/:id/tenants': { need: 'viewer' },
  'POST /v1/migration-runs/:id/pause': { need: 'sre' },
  'POST /v1/migration-runs/:id/resume': { need: 'sre' },
  'POST /v1/migration-runs/:id/cancel': { need: 'sre' },
  'GET /v1/fleet/plan': { need: 'viewer' },
  'GET /v1/fleet/status': { need: 'viewer' },

  'GET /v1/audit': { need: 'viewer' },

  'POST /v1/auth/login': { need: 'public' },
  'GET /v1/auth/me': { need: 'viewer' },
  'POST /v1/auth/password': {
    need: 'viewer',
    body: () => ({ currentPassword: 'whatever it was', newPassword: password() }),
  },
  'POST /v1/auth/logout': { need: 'viewer' },

  'GET /v1/operators': { need: 'admin' },
  'POST /v1/operators': {
    need: 'admin',
    body: () => ({ email: `sneaky-${suffix()}@rr.test`, role: 'admin', password: password() }),
  },
  'GET /v1/operators/:id': { need: 'admin' },
  'PATCH /v1/operators/:id': { need: 'admin', body: () => ({ role: 'admin' }) },
  'POST /v1/operators/:id/password': { need: 'admin', body: () => ({ password: password() }) },

  'GET /v1/api-keys': { need: 'viewer' },
  'POST /v1/api-keys': { need: 'viewer', body: () => ({ name: 'sneaky' }) },
  'DELETE /v1/api-keys/:id': { need: 'viewer' },
};

const NOT_FOUND_HANDLER = '/{*path}';
const ROLES: readonly Role[] = ['admin', 'ops', 'sre', 'viewer'];
const CALLERS = [
  ...ROLES.flatMap((role) => [`${role} (api key)`, `${role} (session)`]),
  'bootstrap token',
  'no credentials',
] as const;
type Caller = (typeof CALLERS)[number];

function roleOf(caller: Caller): Role | null {
  if (caller === 'bootstrap token') return 'admin';
  if (caller === 'no credentials') return null;
  return caller.split(' ')[0] as Role;
}

function expectedOutcome(need: Need, caller: Caller): 'allowed' | 401 | 403 {
  if (need === 'public') return 'allowed';
  const role = roleOf(caller);
  if (!role) return 401;
  return role === 'admin' || need === 'viewer' || need === role ? 'allowed' : 403;
}

// Logout last: a session caller that is allowed to log out ends its own session.
const cases = Object.entries(ROUTES)
  .sort(([a], [b]) => Number(a === 'POST /v1/auth/logout') - Number(b === 'POST /v1/auth/logout'))
  .flatMap(([route, spec]) =>
    CALLERS.map((caller) => [route, caller, expectedOutcome(spec.need, caller)] as const),
  );

let platform: RunningPlatform;
let db: Client;
let fixture: Fixture;
let fingerprintQuery: string;
const credentials = new Map<Caller, { headers: Record<string, string>; csrf?: string }>();

beforeAll(async () => {
  platform = await startPlatform({ withoutWorker: true });
  db = new Client({ connectionString: platform.database.url });
  await db.connect();
  const bootstrap = { Authorization: `Bearer ${platform.adminToken}` };

  for (const role of ROLES) {
    const email = `${role}-${suffix()}@rr.test`;
    const secret = password();
    await platform
      .api()
      .post('/v1/operators')
      .set(bootstrap)
      .send({ email, role, password: secret })
      .expect(201);
    const login = await platform
      .api()
      .post('/v1/auth/login')
      .send({ email, password: secret })
      .expect(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const csrf = login.body.csrfToken as string;
    const key = await platform
      .api()
      .post('/v1/api-keys')
      .set({ Cookie: cookie, 'X-CSRF-Token': csrf })
      .send({ name: `${role} automation` })
      .expect(201);
    credentials.set(`${role} (api key)`, {
      headers: { Authorization: `Bearer ${key.body.key as string}` },
    });
    credentials.set(`${role} (session)`, { headers: { Cookie: cookie }, csrf });
  }
  credentials.set('bootstrap token', { headers: bootstrap });
  credentials.set('no credentials', { headers: {} });

  // Real rows for refused calls to aim at.
  const slug = `rr-${suffix()}`;
  const tenant = await platform
    .api()
    .post('/v1/tenants')
    .set(bootstrap)
    .send({ slug, name: slug, adminEmail: `admin@${slug}.test` })
    .expect(202);
  const run = await platform.api().post('/v1/migration-runs').set(bootstrap).send({}).expect(202);
  const spareEmail = `spare-${suffix()}@rr.test`;
  const sparePassword = password();
  const spare = await platform
    .api()
    .post('/v1/operators')
    .set(bootstrap)
    .send({ email: spareEmail, role: 'viewer', password: sparePassword })
    .expect(201);
  const spareLogin = await platform
    .api()
    .post('/v1/auth/login')
    .send({ email: spareEmail, password: sparePassword })
    .expect(200);
  const spareKey = await platform
    .api()
    .post('/v1/api-keys')
    .set({
      Cookie: (spareLogin.headers['set-cookie'] as unknown as string[])[0].split(';')[0],
      'X-CSRF-Token': spareLogin.body.csrfToken as string,
    })
    .send({ name: 'spare' })
    .expect(201);
  fixture = {
    tenantId: tenant.body.id as string,
    runId: run.body.id as string,
    operatorId: spare.body.operator.id as string,
    apiKeyId: spareKey.body.apiKey.id as string,
    hostname: `shop-${suffix()}.example.com`,
  };

  // Every platform table's rows, hashed; minus the columns merely *using* a credential touches.
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'platform' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  fingerprintQuery = [
    ...tables.rows.map(
      ({ table_name: table }) =>
        `SELECT '${table}' AS part, md5(coalesce(string_agg(row, ',' ORDER BY row), '')) AS digest
           FROM (SELECT (to_jsonb(t) - 'last_seen_at' - 'last_used_at')::text AS row
                   FROM platform."${table}" t) rows`,
    ),
    `SELECT 'schemas', md5(string_agg(nspname, ',' ORDER BY nspname)) FROM pg_namespace`,
  ].join(' UNION ALL ');
});

afterAll(async () => {
  await db?.end();
  await platform?.stop();
});

async function fingerprint(): Promise<Record<string, string>> {
  const rows = await db.query<{ part: string; digest: string }>(fingerprintQuery);
  return Object.fromEntries(rows.rows.map((row) => [row.part, row.digest]));
}

/** Fills a route's parameters: real rows (refused calls) or ids that do not exist (allowed). */
function pathFor(route: string, real: boolean): string {
  const path = route.split(' ')[1];
  const id = path.startsWith('/v1/migration-runs/')
    ? fixture.runId
    : path.startsWith('/v1/operators/')
      ? fixture.operatorId
      : path.startsWith('/v1/api-keys/')
        ? fixture.apiKeyId
        : fixture.tenantId;
  return path
    .replace(/:(id|idOrSlug)\b/, real ? id : randomUUID())
    .replace(':hostname', real ? fixture.hostname : `absent-${suffix()}.example.com`);
}

function send(route: string, caller: Caller, real: boolean): Test {
  const method = route.split(' ')[0].toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  const { headers, csrf } = credentials.get(caller)!;
  let call = platform.api()[method](pathFor(route, real)).set(headers);
  if (csrf && method !== 'get') call = call.set('X-CSRF-Token', csrf);
  if (method === 'get') return call;
  return call.send(real ? (ROUTES[route].body?.(fixture) ?? {}) : { notAField: true });
}

describe('route × role', () => {
  it('the table lists exactly the routes the app serves', () => {
    const express = platform.controlPlane.getHttpAdapter().getInstance() as {
      router: {
        stack: { route?: { path: string; methods: Record<string, boolean> } }[];
      };
    };
    const served = express.router.stack.flatMap((layer) =>
      // `/{*path}` (every method) is Nest's not-found handler, registered after all routes.
      layer.route && layer.route.path !== NOT_FOUND_HANDLER
        ? Object.keys(layer.route.methods).map(
            (method) => `${method.toUpperCase()} ${layer.route!.path}`,
          )
        : [],
    );
    expect([...new Set(served)].sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it.each(cases)('%s as %s → %s', async (route, caller, expected) => {
    if (expected === 'allowed') {
      const response = await send(route, caller, false);
      const refused = [401, 403].includes(response.status) || response.status >= 500;
      expect(refused ? { status: response.status, body: response.body as unknown } : null).toBe(
        null,
      );
      return;
    }
    const before = await fingerprint();
    const response = await send(route, caller, true);
    expect({ status: response.status, error: response.body.error as unknown }).toEqual({
      status: expected,
      error: expected === 401 ? 'unauthenticated' : 'forbidden',
    });
    expect(await fingerprint()).toEqual(before);
  });
});
