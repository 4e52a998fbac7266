/**
 * Shared by isolation.e2e-spec.ts and isolation-pgbouncer.e2e-spec.ts: sets up many tenants,
 * each with a signed-in user and a few projects whose names carry the tenant's slug, then fires
 * a large, interleaved, concurrent mix of requests at the data plane (each for a randomly chosen
 * tenant) and checks every row that comes back against the tenant that asked for it.
 */
import { Agent, request as httpRequest } from 'node:http';
import { Client } from 'pg';
import type { RunningPlatform, TenantSummary } from '../../../test/platform-harness';

export interface LoadTenant {
  readonly id: string;
  readonly slug: string;
  readonly schema: string;
  readonly host: string;
  readonly token: string;
  /** The user id the token stands for (its `sub`); every project it creates carries it. */
  readonly userId: string;
  /** Names of the projects this tenant owns, as the API confirmed them. */
  readonly projectNames: Set<string>;
  /** Ids of the projects this tenant owns, as the API confirmed them. */
  readonly projectIds: Set<string>;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly body: unknown;
}

export interface ProjectRow {
  id: string;
  name: string;
  description: string;
  createdBy: string | null;
  createdAt: string;
}

/** A node:http client that can set any Host header (global fetch cannot), over keep-alive. */
export class HostClient {
  private readonly agent: Agent;
  private readonly port: number;
  private readonly hostname: string;

  constructor(baseUrl: string, maxSockets = 100) {
    const url = new URL(baseUrl);
    this.hostname = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  send(
    method: string,
    path: string,
    host: string,
    options: { token?: string; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpResult> {
    const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
    const headers: Record<string, string> = { host, ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { hostname: this.hostname, port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = undefined;
            try {
              body = text.length > 0 ? JSON.parse(text) : undefined;
            } catch {
              body = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
          });
        },
      );
      req.on('error', reject);
      req.setTimeout(30_000, () =>
        req.destroy(new Error(`${method} ${path} on ${host} timed out`)),
      );
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `tasks` with at most `limit` in flight; results keep the tasks' order. */
export async function promisePool<T>(
  tasks: readonly (() => Promise<T>)[],
  limit: number,
): Promise<{ results: T[]; maxInFlight: number }> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        results[index] = await tasks[index]();
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return { results, maxInFlight };
}

/** The `sub` claim of a JWT (read, not verified: the test only needs to know whose it is). */
export function tokenSubject(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
    sub: string;
  };
  return payload.sub;
}

/** Slugs whose names are never a prefix of one another once followed by `-`. */
export function tenantSlugs(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-t${String(i + 1).padStart(2, '0')}`);
}

/** Creates the tenants concurrently, signs a member in on each, and gives each a few projects. */
export async function prepareTenants(
  platform: RunningPlatform,
  client: HostClient,
  slugs: readonly string[],
  projectsPerTenant = 3,
): Promise<LoadTenant[]> {
  // Plan `pro`: a load run creates ~40 projects per tenant, too close to `free`'s maxProjects
  // (50) for a random spread to stay under it; quotas have their own suite (quotas.e2e-spec).
  const created: TenantSummary[] = await Promise.all(
    slugs.map((slug) => platform.createTenant(slug, { plan: 'pro' })),
  );
  return Promise.all(
    created.map(async (summary) => {
      const token = await platform.signIn(summary.slug);
      const tenant: LoadTenant = {
        id: summary.id,
        slug: summary.slug,
        schema: summary.schema,
        host: platform.hostOf(summary.slug),
        token,
        userId: tokenSubject(token),
        projectNames: new Set(),
        projectIds: new Set(),
      };
      for (let i = 1; i <= projectsPerTenant; i++) {
        const name = `${summary.slug}-p${i}`;
        const response = await client.send('POST', '/api/projects', tenant.host, {
          token,
          json: { name, description: `seed project of ${summary.slug}` },
        });
        if (response.status !== 201) {
          throw new Error(`seed ${name}: ${response.status} ${response.text}`);
        }
        const project = response.body as ProjectRow;
        tenant.projectNames.add(project.name);
        tenant.projectIds.add(project.id);
      }
      return tenant;
    }),
  );
}

export interface LoadReport {
  requestsSent: number;
  byKind: Record<'listProjects' | 'createProject' | 'tenantProfile', number>;
  non2xx: { kind: string; slug: string; status: number; body: string }[];
  /** Rows (or profiles) checked against the tenant that asked for them. */
  rowsChecked: number;
  /** Rows or profiles that belonged to some other tenant, with what gave them away. */
  foreignRows: { slug: string; kind: string; detail: string }[];
  /** Requests whose answer had an unexpected shape (not a leak, but not right either). */
  malformed: { slug: string; kind: string; detail: string }[];
  /** Most requests the pool had in flight at once. */
  maxInFlight: number;
  elapsedMs: number;
}

/** Deterministic pseudo-random numbers, so a failing run can be replayed with the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

/**
 * Fires `requests` requests, each for a random tenant, `concurrency` at a time: 45% list
 * projects (random limit/offset), 30% create a project, 25% read the tenant profile.
 */
export async function runMixedLoad(
  client: HostClient,
  tenants: readonly LoadTenant[],
  options: { requests: number; concurrency: number; seed?: number; runTag?: string },
): Promise<LoadReport> {
  const random = seededRandom(options.seed ?? 20240601);
  const runTag = options.runTag ?? 'load';
  const bySlug = new Map(tenants.map((tenant) => [tenant.slug, tenant]));
  const report: LoadReport = {
    requestsSent: 0,
    byKind: { listProjects: 0, createProject: 0, tenantProfile: 0 },
    non2xx: [],
    rowsChecked: 0,
    foreignRows: [],
    malformed: [],
    maxInFlight: 0,
    elapsedMs: 0,
  };
  const ownerOfName = (name: string): string | undefined => {
    for (const slug of bySlug.keys()) if (name.startsWith(`${slug}-`)) return slug;
    return undefined;
  };
  const checkProject = (tenant: LoadTenant, kind: string, row: ProjectRow): void => {
    report.rowsChecked++;
    if (typeof row?.name !== 'string' || typeof row?.id !== 'string') {
      report.malformed.push({ slug: tenant.slug, kind, detail: JSON.stringify(row) });
      return;
    }
    const problems: string[] = [];
    if (!row.name.startsWith(`${tenant.slug}-`)) {
      problems.push(`name ${row.name} (looks like ${ownerOfName(row.name) ?? 'nobody'}'s)`);
    }
    if (row.createdBy !== tenant.userId) problems.push(`createdBy ${String(row.createdBy)}`);
    for (const other of tenants) {
      if (other !== tenant && other.projectIds.has(row.id)) problems.push(`id of ${other.slug}`);
    }
    if (problems.length > 0) {
      report.foreignRows.push({ slug: tenant.slug, kind, detail: problems.join('; ') });
    }
  };

  const tasks = Array.from({ length: options.requests }, (_, index) => {
    const tenant = tenants[Math.floor(random() * tenants.length)];
    const roll = random();
    const limit = 1 + Math.floor(random() * 100);
    const offset = Math.floor(random() * 5);
    return async (): Promise<void> => {
      report.requestsSent++;
      if (roll < 0.45) {
        report.byKind.listProjects++;
        const response = await client.send(
          'GET',
          `/api/projects?limit=${limit}&offset=${offset}`,
          tenant.host,
          { token: tenant.token },
        );
        if (response.status !== 200) {
          report.non2xx.push({
            kind: 'list',
            slug: tenant.slug,
            status: response.status,
            body: response.text,
          });
          return;
        }
        const items = (response.body as { items?: ProjectRow[] })?.items;
        if (!Array.isArray(items)) {
          report.malformed.push({
            slug: tenant.slug,
            kind: 'list',
            detail: response.text.slice(0, 200),
          });
          return;
        }
        for (const row of items) checkProject(tenant, 'list', row);
      } else if (roll < 0.75) {
        report.byKind.createProject++;
        const name = `${tenant.slug}-${runTag}-${index}`;
        const response = await client.send('POST', '/api/projects', tenant.host, {
          token: tenant.token,
          json: { name, description: `${runTag} ${index}` },
        });
        if (response.status !== 201) {
          report.non2xx.push({
            kind: 'create',
            slug: tenant.slug,
            status: response.status,
            body: response.text,
          });
          return;
        }
        const row = response.body as ProjectRow;
        if (row?.name !== name) {
          report.malformed.push({
            slug: tenant.slug,
            kind: 'create',
            detail: response.text.slice(0, 200),
          });
        }
        checkProject(tenant, 'create', row);
        tenant.projectNames.add(row.name);
        tenant.projectIds.add(row.id);
      } else {
        report.byKind.tenantProfile++;
        const response = await client.send('GET', '/api/tenant', tenant.host);
        if (response.status !== 200) {
          report.non2xx.push({
            kind: 'tenant',
            slug: tenant.slug,
            status: response.status,
            body: response.text,
          });
          return;
        }
        const profile = response.body as { id?: string; slug?: string };
        report.rowsChecked++;
        if (profile?.slug !== tenant.slug || profile?.id !== tenant.id) {
          report.foreignRows.push({
            slug: tenant.slug,
            kind: 'tenant',
            detail: response.text.slice(0, 200),
          });
        }
      }
    };
  });

  const started = Date.now();
  const { maxInFlight } = await promisePool(tasks, options.concurrency);
  report.elapsedMs = Date.now() - started;
  report.maxInFlight = maxInFlight;
  return report;
}

export interface SchemaAudit {
  /** Rows in a tenant's projects table that are not that tenant's. */
  foreignRows: { schema: string; slug: string; name: string }[];
  /** Tenants whose table does not hold exactly the projects the API confirmed for them. */
  mismatches: {
    slug: string;
    expected: number;
    actual: number;
    missing: string[];
    extra: string[];
  }[];
  rowsAudited: number;
}

/** Reads every tenant's projects table directly (schema-qualified, no search_path involved). */
export async function auditTenantSchemas(
  databaseUrl: string,
  tenants: readonly LoadTenant[],
): Promise<SchemaAudit> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const audit: SchemaAudit = { foreignRows: [], mismatches: [], rowsAudited: 0 };
  try {
    for (const tenant of tenants) {
      if (!/^t_[0-9a-f]{32}$/.test(tenant.schema)) throw new Error(`odd schema ${tenant.schema}`);
      const { rows } = await db.query<{ id: string; name: string }>(
        `SELECT id::text, name FROM "${tenant.schema}".projects`,
      );
      audit.rowsAudited += rows.length;
      for (const row of rows) {
        if (!row.name.startsWith(`${tenant.slug}-`)) {
          audit.foreignRows.push({ schema: tenant.schema, slug: tenant.slug, name: row.name });
        }
      }
      const actual = new Set(rows.map((row) => row.id));
      const missing = [...tenant.projectIds].filter((id) => !actual.has(id));
      const extra = rows.filter((row) => !tenant.projectIds.has(row.id)).map((row) => row.name);
      if (missing.length > 0 || extra.length > 0) {
        audit.mismatches.push({
          slug: tenant.slug,
          expected: tenant.projectIds.size,
          actual: rows.length,
          missing,
          extra,
        });
      }
    }
  } finally {
    await db.end();
  }
  return audit;
}

/** One line for the test log: what was sent and what was found. */
export function describeLoad(label: string, report: LoadReport, audit: SchemaAudit): string {
  return (
    `${label}: ${report.requestsSent} requests (list ${report.byKind.listProjects}, ` +
    `create ${report.byKind.createProject}, profile ${report.byKind.tenantProfile}) ` +
    `in ${report.elapsedMs} ms, max ${report.maxInFlight} in flight; ` +
    `${report.rowsChecked} rows/profiles checked, foreign rows in responses: ${report.foreignRows.length}, ` +
    `non-2xx: ${report.non2xx.length}; ${audit.rowsAudited} rows audited in the schemas, ` +
    `foreign rows in schemas: ${audit.foreignRows.length}`
  );
}
