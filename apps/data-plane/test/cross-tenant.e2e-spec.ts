/**
 * Issue 7, "What must be shown": every data-plane route, attacked from one tenant against
 * another. Two active tenants, A (the victim) and B (the attacker), each with an admin, a member
 * and a viewer, a project, a file, a pending invite, a password-reset link and a refresh token.
 *
 * The first test checks the table below against the routes the running app registers (the
 * Express router), so a route added later fails here until someone says how to attack it.
 * Then, for every route:
 * - (a) A's tokens (each role) on B's host, aimed at A's ids;
 * - (b) B's own tokens (each role) on B's host, aimed at A's ids (project, file, file name,
 *   invite, reset and refresh tokens, A's users' credentials);
 * - (c) no token at all, on A's host, aimed at A's ids;
 * - (d) B's tokens on A's host, aimed at A's ids.
 * Each answer must be one the table allows for that attack, never a 5xx, and must not contain
 * anything of A's that the request did not already carry (ids, e-mails, names, contents,
 * tokens; on B's host not even A's tenant id or slug). All of A's tenant-schema rows (a checksum
 * per table, read as superuser) and A's objects in the bucket are the same after each route's
 * attacks as before. B's rows may change: B creating its own project is B's business.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import request, { type Response } from 'supertest';
import { startS3Server, type S3Server } from '@platform/testing';
import {
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';

const BUCKET = 'tenant-files';
const ROLES = ['admin', 'member', 'viewer'] as const;
type Role = (typeof ROLES)[number];

const ATTACKS = ['a', 'b', 'c', 'd'] as const;
type Attack = (typeof ATTACKS)[number];
const ATTACK_NAMES: Record<Attack, string> = {
  a: "A's token on B's host",
  b: "B's token on B's host with A's ids",
  c: "no token on A's host",
  d: "B's token on A's host",
};

/** What one tenant has that another could aim at. */
interface TenantKit {
  tenant: TenantSummary;
  host: string;
  users: Record<Role, { id: string; email: string; password: string }>;
  access: Record<Role, string>;
  /** The admin's, from its sign-in (single use: never spent by the setup). */
  refreshToken: string;
  projectId: string;
  projectName: string;
  fileId: string;
  fileName: string;
  fileContent: string;
  inviteToken: string;
  resetToken: string;
}

/** What an attack aims at: always A's ids; `own` is the tenant whose credentials are used. */
interface Target {
  attack: Attack;
  a: TenantKit;
  b: TenantKit;
}

interface RouteSpec {
  /** `bearer`: an access token is needed. `public`: anyone may call it (see `why`). */
  readonly access: 'bearer' | 'public';
  /** The path with A's ids filled in (default: the route's path, which has no parameters). */
  readonly path?: (target: Target) => string;
  readonly body?: (target: Target) => unknown;
  /** Sent as raw bytes with this content type instead of JSON. */
  readonly raw?: { contentType: string; body: string };
  /**
   * Statuses each attack may get (bearer routes: 401 for a, c and d unless listed). 400 is a
   * refusal by validation: the token in the body is checked like any other field and does not
   * verify in this tenant (the same answer as a made-up token, so it reveals nothing).
   */
  readonly expect: Partial<Record<Attack, readonly number[]>>;
  readonly why: string;
}

const DOCS_ROUTE: RouteSpec = {
  access: 'public',
  expect: { a: [200], b: [200], c: [200], d: [200] },
  why: 'OpenAPI UI and document: the same for every host, no tenant data',
};

const STATIC_PUBLIC = { a: [200], b: [200], c: [200], d: [200] } as const;

const ROUTES: Record<string, RouteSpec> = {
  // The replica's own routes: no tenant context at all, so nothing of any tenant to show.
  'GET /health/live': { access: 'public', expect: STATIC_PUBLIC, why: 'liveness' },
  'GET /health/ready': { access: 'public', expect: STATIC_PUBLIC, why: 'readiness' },
  'GET /metrics': {
    access: 'public',
    expect: STATIC_PUBLIC,
    why: 'Prometheus: labels are route templates, never tenant ids or slugs (checked below)',
  },
  'GET /.well-known/acme-challenge/:token': {
    access: 'public',
    path: () => `/.well-known/acme-challenge/${randomBytes(16).toString('base64url')}`,
    expect: { a: [404], b: [404], c: [404], d: [404] },
    why: 'HTTP-01 proofs for any host (the CA asks before a domain is active); an unknown token is 404',
  },
  'GET /docs': DOCS_ROUTE,
  'GET /docs/index.html': DOCS_ROUTE,
  'GET /docs/LICENSE': {
    ...DOCS_ROUTE,
    expect: { a: [200, 404], b: [200, 404], c: [200, 404], d: [200, 404] },
    why: "swagger-ui's licence file: registered, 404 when the package ships none",
  },
  // Swagger UI's files (@fastify/static under /docs; Fastify prints the wildcard so).
  'GET /docs*': { ...DOCS_ROUTE, path: () => '/docs/swagger-ui.css' },
  'GET /docs/swagger-ui-init.js': DOCS_ROUTE,
  'GET /docs/docs/swagger-ui-init.js': DOCS_ROUTE,
  'GET /docs-json': DOCS_ROUTE,
  'GET /docs-yaml': DOCS_ROUTE,
  'OPTIONS *': {
    access: 'public',
    path: () => '/api/projects',
    expect: { a: [204, 404], b: [204, 404], c: [204, 404], d: [204, 404] },
    why: 'CORS preflight (@fastify/cors) for any path: headers only, for listed origins; 404 otherwise',
  },

  // Public tenant routes: the host picks the tenant; a token (anyone's) changes nothing.
  'GET /api/tenant': {
    access: 'public',
    expect: STATIC_PUBLIC,
    why: "the host's own public profile (on A's host that is A's, which is public)",
  },
  'GET /api/lookups/countries': {
    access: 'public',
    expect: STATIC_PUBLIC,
    why: "the host tenant's copy of seeded ISO data",
  },
  'GET /api/lookups/currencies': {
    access: 'public',
    expect: STATIC_PUBLIC,
    why: "the host tenant's copy of seeded ISO data",
  },
  'GET /welcome': {
    access: 'public',
    path: ({ a }) => `/welcome?token=${a.inviteToken}`,
    expect: STATIC_PUBLIC,
    why: 'a static page; the token is only spent by accept-invite, checked there',
  },
  'GET /welcome/welcome.js': {
    access: 'public',
    expect: STATIC_PUBLIC,
    why: "the welcome page's static script",
  },
  'POST /api/auth/login': {
    access: 'public',
    // On B's host: A's admin credentials, right password. On A's host: B's credentials.
    body: ({ attack, a, b }) =>
      attack === 'a' || attack === 'b'
        ? { email: a.users.admin.email, password: a.users.admin.password }
        : { email: b.users.admin.email, password: b.users.admin.password },
    expect: { a: [401], b: [401], c: [401], d: [401] },
    why: "users are the host tenant's: another tenant's credentials are invalid_credentials",
  },
  'POST /api/auth/refresh': {
    access: 'public',
    body: ({ attack, a, b }) => ({
      refreshToken: attack === 'a' || attack === 'b' ? a.refreshToken : b.refreshToken,
    }),
    expect: { a: [401], b: [401], c: [401], d: [401] },
    why: "refresh tokens live in the tenant's schema: another tenant's is unknown here (and A's family is not revoked: the snapshot)",
  },
  'POST /api/auth/logout': {
    access: 'public',
    body: ({ attack, a, b }) => ({
      refreshToken: attack === 'a' || attack === 'b' ? a.refreshToken : b.refreshToken,
    }),
    expect: { a: [204], b: [204], c: [204], d: [204] },
    why: "204 for any well-formed token (no oracle of which tokens exist); it revokes only in the host's schema, so A's session survives (the snapshot)",
  },
  'POST /api/auth/accept-invite': {
    access: 'public',
    body: ({ attack, a, b }) => ({
      token: attack === 'a' || attack === 'b' ? a.inviteToken : b.inviteToken,
      password: `taken-over-${randomBytes(6).toString('hex')}`,
    }),
    expect: { a: [400], b: [400], c: [400], d: [400] },
    why: "400 invalid_invite: invites are stored (hashed) in the tenant's schema, another tenant's does not verify",
  },
  'POST /api/auth/reset-password': {
    access: 'public',
    body: ({ attack, a, b }) => ({
      token: attack === 'a' || attack === 'b' ? a.resetToken : b.resetToken,
      password: `taken-over-${randomBytes(6).toString('hex')}`,
    }),
    expect: { a: [400], b: [400], c: [400], d: [400] },
    why: "400 invalid_reset_token: reset links are stored (hashed) in the tenant's schema",
  },

  // Bearer routes: a, c and d are 401 (another tenant's token, or none).
  'GET /api/projects': {
    access: 'bearer',
    path: ({ a }) => `/api/projects?limit=100&offset=0&tenantId=${a.tenant.id}`,
    expect: { b: [400] },
    why: '400: a tenant cannot be chosen by query (an unknown parameter is refused, not ignored)',
  },
  'POST /api/projects': {
    access: 'bearer',
    // Mass assignment: A's ids in fields the API never takes.
    body: ({ a }) => ({
      name: `${a.projectName} copy`,
      id: a.projectId,
      tenantId: a.tenant.id,
      createdBy: a.users.admin.id,
    }),
    expect: { b: [400] },
    why: '400: ids and tenant are never taken from a body (unknown properties are refused)',
  },
  'GET /api/usage': {
    access: 'bearer',
    path: ({ a }) => `/api/usage?tenantId=${a.tenant.id}`,
    expect: { b: [200] },
    why: "b reads B's own usage: the route takes no parameters, the host alone picks the tenant",
  },
  'GET /api/files': {
    access: 'bearer',
    path: ({ a }) => `/api/files?tenantId=${a.tenant.id}`,
    expect: { b: [400] },
    why: '400: a tenant cannot be chosen by query',
  },
  'PUT /api/files/:name': {
    access: 'bearer',
    path: ({ a }) => `/api/files/${encodeURIComponent(a.fileName)}`,
    raw: { contentType: 'text/plain', body: 'overwritten by another tenant' },
    expect: { b: [200, 201, 403] },
    why: "b stores a file of that name in B (viewers 403): names are per tenant, A's file is untouched",
  },
  'GET /api/files/:id': {
    access: 'bearer',
    path: ({ a }) => `/api/files/${a.fileId}`,
    expect: { b: [404] },
    why: "A's file id does not exist in B's schema",
  },
  'DELETE /api/files/:id': {
    access: 'bearer',
    path: ({ a }) => `/api/files/${a.fileId}`,
    expect: { b: [403, 404] },
    why: "A's file id does not exist in B's schema (viewers are refused first: 403)",
  },
};

/**
 * The routes Fastify serves, as `METHOD /path` (HEAD left out where it only mirrors a GET).
 * Fastify lists no routes but prints its router as a tree, a node per path segment with its
 * methods; where routes differ only in a parameter's name (`/api/files/:id` and `:name`) it
 * prints one node with the names joined by `|`, and which name goes with which method is not
 * said. Such a node is then served as every name for every method, which the walk below
 * accepts when one of them is in the table.
 */
function servedRoutes(printed: string): { method: string; paths: string[] }[] {
  const served: { method: string; paths: string[] }[] = [];
  const parents: string[][] = [];
  for (const line of printed.split('\n')) {
    const match = /^([│├└─\s]*?)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = [...match[1]].length / 4;
    const alternatives = match[2].split('|');
    const bases = depth === 0 ? [''] : parents[depth - 1];
    const paths = bases.flatMap((base) => {
      // A parameter's alternatives replace the last segment of one path each.
      const [first, ...others] = alternatives;
      const prefix = first.slice(0, first.lastIndexOf(':') === -1 ? 0 : first.lastIndexOf(':'));
      return [first, ...others.map((other) => `${prefix}${other}`)].map((alt) => base + alt);
    });
    parents[depth] = paths;
    const methods = match[3]?.split(', ') ?? [];
    for (const method of methods) {
      if (method === 'HEAD' && methods.includes('GET')) continue;
      served.push({ method, paths });
    }
  }
  return served;
}
const suffix = () => randomBytes(4).toString('hex');

let s3: S3Server;
let platform: RunningPlatform;
let db: Client;
let a: TenantKit;
let b: TenantKit;
let checksumQuery: string;

const admin = () => ({ Authorization: `Bearer ${platform.adminToken}` });
const dp = () => request(platform.dataPlaneUrl);

async function ok<T>(call: Promise<Response>, status: number, what: string): Promise<T> {
  const response = await call;
  if (response.status !== status) {
    throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body as T;
}

async function makeTenant(prefix: string): Promise<TenantKit> {
  const slug = `${prefix}-${suffix()}`;
  const tenant = await platform.createTenant(slug, { plan: 'starter' });
  const host = platform.hostOf(slug);
  const users = {} as TenantKit['users'];
  const access = {} as TenantKit['access'];
  let refreshToken = '';
  for (const role of ROLES) {
    const email = `${role}-${suffix()}@${slug}.test`;
    const password = `pw-${slug}-${role}-${suffix()}`;
    const created = await ok<{ id: string }>(
      platform
        .api()
        .post(`/v1/tenants/${tenant.id}/users`)
        .set(admin())
        .send({ email, role, password }),
      201,
      `${role} of ${slug}`,
    );
    users[role] = { id: created.id, email, password };
    const pair = await ok<{ accessToken: string; refreshToken: string }>(
      dp().post('/api/auth/login').set('Host', host).send({ email, password }),
      200,
      `login ${role} on ${slug}`,
    );
    access[role] = pair.accessToken;
    if (role === 'admin') refreshToken = pair.refreshToken;
  }
  const invited = await ok<{ invite: { url: string } }>(
    platform
      .api()
      .post(`/v1/tenants/${tenant.id}/users`)
      .set(admin())
      .send({ email: `invited-${suffix()}@${slug}.test`, role: 'member' }),
    201,
    `invite on ${slug}`,
  );
  const reset = await ok<{ url: string }>(
    platform
      .api()
      .post(`/v1/tenants/${tenant.id}/users/${users.member.id}/password-reset`)
      .set(admin()),
    201,
    `password reset on ${slug}`,
  );
  const projectName = `${slug}-secret-project-${suffix()}`;
  const project = await ok<{ id: string }>(
    dp()
      .post('/api/projects')
      .set('Host', host)
      .set('Authorization', `Bearer ${access.member}`)
      .send({ name: projectName, description: `${slug} roadmap ${suffix()}` }),
    201,
    `project on ${slug}`,
  );
  const fileName = `${slug}-secret-${suffix()}.txt`;
  const fileContent = `${slug} secret content ${suffix()}`;
  const file = await ok<{ id: string }>(
    dp()
      .put(`/api/files/${fileName}`)
      .set('Host', host)
      .set('Authorization', `Bearer ${access.member}`)
      .set('Content-Type', 'text/plain')
      .send(fileContent),
    201,
    `file on ${slug}`,
  );
  return {
    tenant,
    host,
    users,
    access,
    refreshToken,
    projectId: project.id,
    projectName,
    fileId: file.id,
    fileName,
    fileContent,
    inviteToken: new URL(invited.invite.url).searchParams.get('token')!,
    resetToken: new URL(reset.url).searchParams.get('token')!,
  };
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
  const storage = {
    STORAGE_PROVIDER: 's3',
    S3_BUCKET: BUCKET,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  platform = await startPlatform({ controlPlaneEnv: storage, dataPlaneEnv: storage });
  db = new Client({ connectionString: platform.database.url });
  await db.connect();
  [a, b] = await Promise.all([makeTenant('victim'), makeTenant('attacker')]);
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [a.tenant.schema],
  );
  checksumQuery = tables.rows
    .map(
      ({ table_name: table }) =>
        `SELECT '${table}' AS part, md5(coalesce(string_agg(t::text, '' ORDER BY t::text), ''))
           AS digest FROM "${a.tenant.schema}"."${table}" t`,
    )
    .join(' UNION ALL ');
}, 60_000);

afterAll(async () => {
  await db?.end();
  await platform?.stop();
  await s3?.stop();
});

/** Every row of A's schema, a digest per table; and A's objects in the bucket. */
async function snapshotOfA(): Promise<Record<string, string>> {
  const { rows } = await db.query<{ part: string; digest: string }>(checksumQuery);
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${a.tenant.id}/` }),
    );
    const objects = (listed.Contents ?? [])
      .map((object) => `${object.Key} ${object.Size} ${object.ETag}`)
      .sort()
      .join('\n');
    return { ...Object.fromEntries(rows.map((row) => [row.part, row.digest])), objects };
  } finally {
    client.destroy();
  }
}

/** A's data that no attacker holds: must never appear in an answer unless the request had it. */
function markersOfA(attack: Attack): string[] {
  const privateMarkers = [
    ...ROLES.flatMap((role) => [a.users[role].id, a.users[role].email, a.users[role].password]),
    a.projectId,
    a.projectName,
    a.fileId,
    a.fileName,
    a.fileContent,
    a.inviteToken,
    a.resetToken,
    a.refreshToken,
  ];
  // On A's own host, A's id, slug and name are its public profile.
  return attack === 'a' || attack === 'b'
    ? [...privateMarkers, a.tenant.id, a.tenant.slug]
    : privateMarkers;
}

interface Attempt {
  attack: Attack;
  caller: string;
  host: string;
  token: string | null;
}

/** Each role's token for bearer routes; a public route ignores tokens, so one caller does. */
function attemptsFor(attack: Attack, spec: RouteSpec): Attempt[] {
  const all = attemptsWithEveryRole(attack);
  return spec.access === 'public' ? all.slice(0, 1) : all;
}

function attemptsWithEveryRole(attack: Attack): Attempt[] {
  switch (attack) {
    case 'a':
      return ROLES.map((role) => ({
        attack,
        caller: `A ${role}`,
        host: b.host,
        token: a.access[role],
      }));
    case 'b':
      return ROLES.map((role) => ({
        attack,
        caller: `B ${role}`,
        host: b.host,
        token: b.access[role],
      }));
    case 'c':
      return [{ attack, caller: 'nobody', host: a.host, token: null }];
    case 'd':
      return ROLES.map((role) => ({
        attack,
        caller: `B ${role}`,
        host: a.host,
        token: b.access[role],
      }));
  }
}

function expectedFor(spec: RouteSpec, attack: Attack): readonly number[] {
  const listed = spec.expect[attack];
  if (listed) return listed;
  if (spec.access === 'bearer' && attack !== 'b') return [401];
  throw new Error(`the table gives no expectation for attack ${attack}`);
}

function bodyText(response: Response): string {
  if (typeof response.text === 'string' && response.text.length > 0) return response.text;
  if (Buffer.isBuffer(response.body)) return response.body.toString('utf8');
  return JSON.stringify(response.body ?? '');
}

async function send(route: string, spec: RouteSpec, attempt: Attempt) {
  const [method, template] = route.split(' ');
  const target: Target = { attack: attempt.attack, a, b };
  const path = spec.path ? spec.path(target) : template;
  let call = dp()
    [method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'options'](path)
    .set('Host', attempt.host);
  if (attempt.token) call = call.set('Authorization', `Bearer ${attempt.token}`);
  let sent = path;
  if (spec.raw) {
    call = call.set('Content-Type', spec.raw.contentType).send(spec.raw.body);
    sent += spec.raw.body;
  } else if (spec.body) {
    const body = spec.body(target);
    sent += JSON.stringify(body);
    call = call.send(body as object);
  }
  const response = await call.buffer(true);
  return { response, sent };
}

describe('cross-tenant walk of the data plane', () => {
  it('the table lists exactly the routes the data plane registers', () => {
    const fastify = platform.dataPlane.getHttpAdapter().getInstance() as {
      printRoutes(options: { commonPrefix: boolean }): string;
      hasRoute(options: { method: string; url: string }): boolean;
    };
    const served = servedRoutes(fastify.printRoutes({ commonPrefix: false }));
    expect(served.length).toBeGreaterThan(10);
    // Every route served is in the table (one of its names, where Fastify merged them)...
    const unlisted = served
      .filter(({ method, paths }) => !paths.some((path) => `${method} ${path}` in ROUTES))
      .map(({ method, paths }) => `${method} ${paths.join(' | ')}`);
    expect(unlisted).toEqual([]);
    // ...and every route in the table is served.
    const printed = new Set(
      served.flatMap(({ method, paths }) => paths.map((p) => `${method} ${p}`)),
    );
    const missing = Object.keys(ROUTES).filter((route) => {
      const [method, url] = route.split(' ');
      return !printed.has(route) && !fastify.hasRoute({ method, url });
    });
    expect(missing).toEqual([]);
  });

  it('the setup gave A real data to aim at (the snapshot covers it)', async () => {
    const snapshot = await snapshotOfA();
    expect(snapshot.objects).toContain(`${a.tenant.id}/files/${a.fileId}`);
    // Every table of A's schema, the ones these routes write among them.
    expect(Object.keys(snapshot)).toEqual(
      expect.arrayContaining(['users', 'projects', 'files', 'refresh_tokens', 'password_resets']),
    );
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${a.tenant.schema}".projects WHERE id = $1`,
      [a.projectId],
    );
    expect(rows[0].n).toBe(1);
    // The attacker's tokens work where they belong (so a 401 below is about the tenant).
    await ok(
      dp()
        .get('/api/projects')
        .set('Host', b.host)
        .set('Authorization', `Bearer ${b.access.viewer}`),
      200,
      "B's viewer on B",
    );
  });

  it.each(Object.keys(ROUTES))('%s', async (route) => {
    const spec = ROUTES[route];
    const before = await snapshotOfA();
    const failures: string[] = [];
    for (const attack of ATTACKS) {
      const allowed = expectedFor(spec, attack);
      for (const attempt of attemptsFor(attack, spec)) {
        const { response, sent } = await send(route, spec, attempt);
        const where = `${ATTACK_NAMES[attack]} (${attempt.caller})`;
        if (!allowed.includes(response.status)) {
          failures.push(
            `${where}: ${response.status} (allowed ${allowed.join('/')}) ${bodyText(response).slice(0, 200)}`,
          );
        }
        const text = bodyText(response);
        const revealed = markersOfA(attack).filter(
          (marker) => text.includes(marker) && !sent.includes(marker),
        );
        if (revealed.length > 0) failures.push(`${where}: answer reveals ${revealed.join(', ')}`);
        if (route === 'GET /metrics') {
          const ids = [a.tenant.id, b.tenant.id, a.tenant.slug, b.tenant.slug];
          const named = ids.filter((id) => text.includes(id));
          if (named.length > 0) failures.push(`${where}: metrics name tenants ${named.join(', ')}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await snapshotOfA()).toEqual(before);
  });

  it("A's own users still work after the walk (nothing of A's was spent or revoked)", async () => {
    const file = await dp()
      .get(`/api/files/${a.fileId}`)
      .set('Host', a.host)
      .set('Authorization', `Bearer ${a.access.viewer}`)
      .buffer(true);
    expect(file.status).toBe(200);
    expect(bodyText(file)).toBe(a.fileContent);
    const refreshed = await dp()
      .post('/api/auth/refresh')
      .set('Host', a.host)
      .send({ refreshToken: a.refreshToken });
    expect(refreshed.status).toBe(200);
    // The invite and the reset link still work on A's own host.
    const accepted = await dp()
      .post('/api/auth/accept-invite')
      .set('Host', a.host)
      .send({ token: a.inviteToken, password: `a-own-choice-${suffix()}` });
    expect(accepted.status).toBe(200);
    const reset = await dp()
      .post('/api/auth/reset-password')
      .set('Host', a.host)
      .send({ token: a.resetToken, password: `a-new-choice-${suffix()}` });
    expect(reset.status).toBe(204);
  });

  // No oracle: aiming at A's real id tells B nothing a made-up id would not.
  it('a made-up file id on B gets the same 404 as A’s', async () => {
    const response = await dp()
      .get(`/api/files/${randomUUID()}`)
      .set('Host', b.host)
      .set('Authorization', `Bearer ${b.access.admin}`);
    const aims = await dp()
      .get(`/api/files/${a.fileId}`)
      .set('Host', b.host)
      .set('Authorization', `Bearer ${b.access.admin}`);
    expect({ status: aims.status, error: aims.body.error as unknown }).toEqual({
      status: response.status,
      error: response.body.error as unknown,
    });
  });
});
