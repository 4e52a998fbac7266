/**
 * Shared by the fleet-migration e2e suites: making a fleet, starting and following runs, and
 * reading each tenant schema's own truth (its template_migrations rows and its catalog) straight
 * from PostgreSQL, never through the API under test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Client } from 'pg';
import type { RunningPlatform } from '../../../test/platform-harness';

export const REPO_ROOT = resolve(__dirname, '../../..');
const POLL_MS = 100;

export interface FleetTenant {
  id: string;
  slug: string;
  schema: string;
}

export interface RunCountsView {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

export interface RunFailureView {
  tenantId: string;
  slug: string;
  phase: string;
  status: string;
  attempts: number;
  fromVersion: number | null;
  toVersion: number | null;
  error: string | null;
}

export interface RunView {
  id: string;
  status: string;
  statusReason: string | null;
  targetVersion: number;
  concurrency: number;
  maxFailures: number | null;
  generation: number;
  counts: RunCountsView;
  total: number;
  canary: { total: number; succeeded: number; failed: number };
  failures: RunFailureView[];
}

export interface RunTenantRow {
  tenant_id: string;
  phase: string;
  status: string;
  attempts: number;
  from_version: number | null;
  to_version: number | null;
  error: string | null;
  claimed_by: string | null;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The operator's supertest, with the bearer token set. */
export function operator(platform: RunningPlatform) {
  const bearer = `Bearer ${platform.adminToken}`;
  return {
    get: (path: string) => platform.api().get(path).set('Authorization', bearer),
    post: (path: string, body: object = {}) =>
      platform.api().post(path).set('Authorization', bearer).send(body),
  };
}

/**
 * POSTs `count` tenants with at most `inFlight` requests at once, then waits until none is
 * provisioning any more. Returns them oldest first (the order canaries are picked in).
 */
export async function createFleet(
  platform: RunningPlatform,
  db: Client,
  prefix: string,
  count: number,
  { inFlight = 20, timeoutMs = 90_000 } = {},
): Promise<FleetTenant[]> {
  const api = operator(platform);
  let next = 0;
  const poster = async () => {
    while (next < count) {
      const slug = `${prefix}-${String(next++).padStart(3, '0')}`;
      const response = await api.post('/v1/tenants', {
        slug,
        name: `Tenant ${slug}`,
        adminEmail: `admin@${slug}.test`,
      });
      if (response.status !== 202) {
        throw new Error(`create ${slug}: ${response.status} ${JSON.stringify(response.body)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, poster));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await api.get('/v1/tenants?status=provisioning&limit=1');
    if (response.status === 200 && (response.body as { total: number }).total === 0) break;
    if (Date.now() > deadline) throw new Error(`fleet still provisioning: ${response.text}`);
    await sleep(250);
  }
  const { rows } = await db.query<FleetTenant & { status: string }>(
    `SELECT id, slug, schema_name AS schema, status FROM platform.tenants
      WHERE slug LIKE $1 ORDER BY created_at, id`,
    [`${prefix}-%`],
  );
  const notActive = rows.filter((row) => row.status !== 'active');
  if (rows.length !== count || notActive.length > 0) {
    throw new Error(
      `expected ${count} active tenants, got ${rows.length} (${notActive.length} not active)`,
    );
  }
  return rows.map(({ id, slug, schema }) => ({ id, slug, schema }));
}

export async function startRun(platform: RunningPlatform, body: object): Promise<RunView> {
  const response = await operator(platform).post('/v1/migration-runs', body);
  if (response.status !== 202) {
    throw new Error(`start run: ${response.status} ${response.text}`);
  }
  return response.body as RunView;
}

export async function getRun(platform: RunningPlatform, runId: string): Promise<RunView> {
  const response = await operator(platform).get(`/v1/migration-runs/${runId}`);
  if (response.status !== 200) throw new Error(`get run: ${response.status} ${response.text}`);
  return response.body as RunView;
}

/** Polls the run until it is no longer `running` (or `until` says so). */
export async function waitForRun(
  platform: RunningPlatform,
  runId: string,
  { timeoutMs = 60_000, until = (run: RunView) => run.status !== 'running' } = {},
): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(platform, runId);
    if (until(run)) return run;
    if (Date.now() > deadline) {
      throw new Error(`run ${runId} did not get there in ${timeoutMs} ms: ${JSON.stringify(run)}`);
    }
    await sleep(POLL_MS);
  }
}

/** Starts a run and waits until it ends; throws unless it `completed`. */
export async function migrateFleet(
  platform: RunningPlatform,
  targetVersion: number,
  concurrency = 4,
): Promise<RunView> {
  const started = await startRun(platform, { targetVersion, concurrency });
  const run = await waitForRun(platform, started.id);
  if (run.status !== 'completed') {
    throw new Error(`run to ${targetVersion} ended ${run.status}: ${JSON.stringify(run)}`);
  }
  return run;
}

export async function runRows(db: Client, runId: string): Promise<Map<string, RunTenantRow>> {
  const { rows } = await db.query<RunTenantRow>(
    `SELECT tenant_id, phase, status, attempts, from_version, to_version, error, claimed_by
       FROM platform.migration_run_tenants WHERE run_id = $1`,
    [runId],
  );
  return new Map(rows.map((row) => [row.tenant_id, row]));
}

const quote = (schema: string) => {
  if (!/^t_[a-z0-9_]+$/.test(schema)) throw new Error(`unexpected schema name ${schema}`);
  return `"${schema}"`;
};

export interface HistoryRow {
  schema: string;
  version: number;
  name: string;
  applied_at: Date;
  duration_ms: number;
}

/** Every template_migrations row of the given schemas, in one round trip. */
export async function historyRows(db: Client, schemas: readonly string[]): Promise<HistoryRow[]> {
  if (schemas.length === 0) return [];
  const sql = schemas
    .map(
      (schema) =>
        `SELECT '${schema}'::text AS schema, version, name, applied_at, duration_ms
           FROM ${quote(schema)}.template_migrations`,
    )
    .join(' UNION ALL ');
  const { rows } = await db.query<HistoryRow>(`${sql} ORDER BY 1, 2`);
  return rows;
}

/** Schema → its applied versions in order, from the schema's own history table. */
export async function versionsBySchema(
  db: Client,
  schemas: readonly string[],
): Promise<Map<string, number[]>> {
  const versions = new Map<string, number[]>(schemas.map((schema) => [schema, []]));
  for (const row of await historyRows(db, schemas)) versions.get(row.schema)?.push(row.version);
  return versions;
}

/** Schema → how many `projects.archived_at` columns it has (0 or 1). */
export async function archivedAtColumns(db: Client): Promise<Map<string, number>> {
  const { rows } = await db.query<{ schema: string; n: number }>(
    `SELECT n.nspname AS schema, count(a.attname)::int AS n
       FROM pg_namespace n
       LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'projects'
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'archived_at'
                               AND NOT a.attisdropped
      WHERE n.nspname LIKE 't\\_%'
      GROUP BY n.nspname`,
  );
  return new Map(rows.map((row) => [row.schema, row.n]));
}

export async function hasIndex(db: Client, schema: string, index: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2`,
    [schema, index],
  );
  return rows.length > 0;
}

/**
 * A fingerprint of everything a dry run must not touch: the database's relation count, every
 * column and index of every tenant schema, and every tenant's migration history.
 */
export async function catalogFingerprint(db: Client): Promise<Record<string, string | number>> {
  const { rows } = await db.query<{ classes: number; columns: string; indexes: string }>(
    `SELECT (SELECT count(*) FROM pg_class)::int AS classes,
            (SELECT md5(coalesce(string_agg(
                      concat_ws(':', table_schema, table_name, column_name, data_type,
                                column_default, is_nullable),
                      ',' ORDER BY table_schema, table_name, ordinal_position), ''))
               FROM information_schema.columns WHERE table_schema LIKE 't\\_%') AS columns,
            (SELECT md5(coalesce(string_agg(schemaname || '.' || indexname || ':' || indexdef,
                      ',' ORDER BY schemaname, indexname), ''))
               FROM pg_indexes WHERE schemaname LIKE 't\\_%') AS indexes`,
  );
  const schemas = (
    await db.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%' ORDER BY nspname`,
    )
  ).rows.map((row) => row.nspname);
  const history = await historyRows(db, schemas);
  const historyHash = createHash('sha256')
    .update(
      history
        .map((row) =>
          [row.schema, row.version, row.name, row.applied_at.toISOString(), row.duration_ms].join(
            ':',
          ),
        )
        .join('\n'),
    )
    .digest('hex');
  return {
    ...rows[0],
    schemas: schemas.length,
    historyRows: history.length,
    history: historyHash,
  };
}

/**
 * A tenant schema's shape with its name taken out, comparable across tenants: columns (in
 * order, with type, default and nullability, not their attribute numbers, which a dropped and
 * re-added column moves), indexes, constraints and the history's versions and names.
 */
export async function normalizedCatalog(db: Client, schema: string): Promise<string[]> {
  const placeholder = (text: string | null) =>
    (text ?? '').split(`"${schema}"`).join('<schema>').split(schema).join('<schema>');
  const columns = await db.query<Record<string, string>>(
    `SELECT table_name, column_name, data_type, udt_name, column_default, is_nullable,
            character_maximum_length, numeric_precision, collation_name
       FROM information_schema.columns WHERE table_schema = $1
      ORDER BY table_name, ordinal_position`,
    [schema],
  );
  const indexes = await db.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`,
    [schema],
  );
  const constraints = await db.query<{ table: string; name: string; def: string }>(
    `SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE k.connamespace = $1::regnamespace ORDER BY c.relname, k.conname`,
    [schema],
  );
  const relations = await db.query<{ relname: string; relkind: string }>(
    `SELECT relname, relkind FROM pg_class WHERE relnamespace = $1::regnamespace
      ORDER BY relname`,
    [schema],
  );
  const history = await historyRows(db, [schema]);
  return [
    ...relations.rows.map((row) => `relation ${row.relname} ${row.relkind}`),
    ...columns.rows.map((row) => `column ${placeholder(Object.values(row).join(' | '))}`),
    ...indexes.rows.map((row) => `index ${row.indexname} ${placeholder(row.indexdef)}`),
    ...constraints.rows.map((row) => `constraint ${row.table}.${row.name} ${placeholder(row.def)}`),
    ...history.map((row) => `history ${row.version} ${row.name}`),
  ];
}

export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run cli -- ...args` in the repository, with exactly the given environment. */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 90_000,
): Promise<ChildResult> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['run', '--silent', 'cli', '--', ...args],
      { cwd: REPO_ROOT, env, timeout: timeoutMs, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        const code =
          error === null ? 0 : typeof error.code === 'number' ? error.code : error.signal ? -1 : 1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** A control-plane worker in its own process, so a test can SIGKILL it. */
export function spawnWorker(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  output: () => string;
} {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'apps/control-plane/src/worker.ts'],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

/** SIGKILLs a child and waits until it is gone. */
export async function killHard(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
}

export { sleep };
