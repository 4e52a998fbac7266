/**
 * `npm run bench:enter-tenant`: what PostgreSQL spends on one tenant request's batch when the
 * statement that enters the tenant (path, timeout, read-only, role) is parsed and planned each
 * time, against prepared once per connection (DATABASE_PREPARED_STATEMENTS). Both through the
 * data plane's own `queryInOneBatch`, as the data plane's login, with the list of 20 projects
 * after it, over the first BENCH_ENTER_TENANT_SCHEMAS tenants of the data-plane bench's database
 * (`npm run bench` builds it). Windows of each mode in turn (A B, then B A, ...): batches per
 * second and the backends' CPU per batch, read from /proc (lib/backend-cpu.ts).
 */
import { Client, Pool } from 'pg';
import { enterTenantPrepared, enterTenantStatement } from '@platform/database';
import { queryInOneBatch, type FixedStatement } from '../libs/database/src/transaction-batch.query';
import { probeBackendCpu } from './lib/backend-cpu';

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tenancy_bench';
const LOGIN = process.env.DATA_PLANE_DATABASE_USER ?? 'platform_data_plane';
const SCHEMAS = Number(process.env.BENCH_ENTER_TENANT_SCHEMAS ?? 120);
const BATCHES_PER_WINDOW = Number(process.env.BENCH_ENTER_TENANT_BATCHES ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ENTER_TENANT_ROUNDS ?? 4);
const CONNECTIONS = 10;
const TIMEOUT_MS = 15_000;
const APPLICATION = 'bench-enter-tenant';
const LIST_SQL =
  `SELECT id, name, description, created_by AS "createdBy", created_at AS "createdAt" ` +
  `FROM projects ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`;

type Mode = 'literal' | 'prepared';

function enterFor(mode: Mode, schemaName: string): FixedStatement {
  return mode === 'prepared'
    ? enterTenantPrepared({ schemaName }, TIMEOUT_MS, { readOnly: true })
    : enterTenantStatement({ schemaName }, TIMEOUT_MS, { readOnly: true });
}

async function tenantSchemas(): Promise<string[]> {
  const admin = new Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ schema_name: string }>(
      `SELECT schema_name FROM platform.tenants WHERE status = 'active' ORDER BY slug LIMIT $1`,
      [SCHEMAS],
    );
    return rows.map((row) => row.schema_name);
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  const schemas = await tenantSchemas();
  if (schemas.length < SCHEMAS) {
    throw new Error(`found ${schemas.length} active tenants, need ${SCHEMAS}: run npm run bench`);
  }
  const loginUrl = new URL(DATABASE_URL);
  loginUrl.username = LOGIN;
  loginUrl.password = '';
  const pool = new Pool({
    connectionString: loginUrl.toString(),
    max: CONNECTIONS,
    min: CONNECTIONS,
    application_name: APPLICATION,
  });
  const cpu = await probeBackendCpu(DATABASE_URL, [APPLICATION]);
  const window = async (mode: Mode, batches: number) => {
    let started = 0;
    await cpu.read();
    const begin = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (started < batches) {
          started += 1;
          const schema = schemas[Math.floor(Math.random() * schemas.length)];
          const rows = await queryInOneBatch(pool, [enterFor(mode, schema)], LIST_SQL, [20, 0]);
          if (rows.length !== 20) throw new Error(`${schema}: ${rows.length} rows, not 20`);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
    return { perSecond: batches / seconds, cpuUs: ((await cpu.read()) * 1000) / batches };
  };
  try {
    console.log(
      `enter-tenant: ${schemas.length} tenant schemas, ${CONNECTIONS} connections as ${LOGIN}, ` +
        `${BATCHES_PER_WINDOW} batches per window, ${ROUNDS} rounds`,
    );
    // Warm both: every connection meets every schema, and prepares the statement.
    await window('literal', BATCHES_PER_WINDOW / 2);
    await window('prepared', BATCHES_PER_WINDOW / 2);
    const results: Record<Mode, number[]> = { literal: [], prepared: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Mode[] = round % 2 ? ['literal', 'prepared'] : ['prepared', 'literal'];
      for (const mode of order) {
        const { perSecond, cpuUs } = await window(mode, BATCHES_PER_WINDOW);
        results[mode].push(cpuUs);
        console.log(
          `  round ${round} ${mode.padEnd(8)} ${perSecond.toFixed(0).padStart(6)} batches/s` +
            `  backend CPU ${cpuUs.toFixed(1)} µs/batch`,
        );
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
    console.log(
      `median backend CPU per batch: literal ${median(results.literal).toFixed(1)} µs, ` +
        `prepared ${median(results.prepared).toFixed(1)} µs`,
    );
  } finally {
    await cpu.close();
    await pool.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
