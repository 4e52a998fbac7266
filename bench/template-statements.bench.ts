/**
 * `npm run bench:template`: where the SQL floor of a cold schema goes, statement by statement.
 * `BENCH_TEMPLATE_SCHEMAS` schemas are created with `lib/schema-floor.ts`'s statements (CREATE
 * SCHEMA, every migration's `up`, every seed, ONE transaction), each statement timed on the
 * client; it prints the mean per statement and the share of the whole. The first 3 schemas warm
 * the backend and are not counted. They are made in a throwaway database (dropped at the end),
 * or in `BENCH_TEMPLATE_DATABASE_URL`'s (its schemas `bench_template_<hex>_<n>` are dropped at
 * the end): a database just created and one that has held schemas for a while differ.
 *
 * To see what the server's file syncs cost, run it twice on a scratch server, once as is and
 * once after `ALTER SYSTEM SET fsync = off; SELECT pg_reload_conf();` (and RESET afterwards).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { runTemplateOnce } from './lib/schema-floor';

const WARM_UP = 3;

function settings() {
  const schemas = Number(process.env.BENCH_TEMPLATE_SCHEMAS ?? 30);
  if (!Number.isInteger(schemas) || schemas < 1 || schemas > 1000) {
    throw new Error('BENCH_TEMPLATE_SCHEMAS must be an integer from 1 to 1000');
  }
  const serverUrl = process.env.BENCH_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const databaseUrl = process.env.BENCH_TEMPLATE_DATABASE_URL || null;
  return { schemas, serverUrl, databaseUrl };
}

/** "CREATE TABLE users ( id uuid …" → one line, short enough to read as a label. */
function label(sql: string): string {
  return sql.trim().replace(/\s+/g, ' ').slice(0, 60);
}

async function timeTemplate(
  client: Client,
  schemas: number,
  prefix: string,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>();
  for (let i = 0; i < schemas + WARM_UP; i++) {
    const counted = i >= WARM_UP;
    const query = async (sql: string, params?: unknown[]): Promise<unknown[]> => {
      const started = performance.now();
      const result = await client.query<Record<string, unknown>>(sql, params);
      // Schema names differ per round; one label for them all.
      const key = sql.startsWith('CREATE SCHEMA') ? 'CREATE SCHEMA' : label(sql);
      if (counted) samples.set(key, [...(samples.get(key) ?? []), performance.now() - started]);
      return result.rows;
    };
    await runTemplateOnce(query, `${prefix}${i}`);
  }
  return samples;
}

async function main(): Promise<void> {
  const { schemas, serverUrl, databaseUrl } = settings();
  const name = `bench_template_${randomBytes(4).toString('hex')}`;
  const admin = databaseUrl ? null : new Client({ connectionString: serverUrl });
  let url = databaseUrl;
  if (admin) {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const fresh = new URL(serverUrl);
    fresh.pathname = `/${name}`;
    url = fresh.toString();
  }
  const client = new Client({ connectionString: url ?? undefined });
  const prefix = admin ? 's' : `${name}_`;
  try {
    await client.connect();
    const { rows } = await client.query<{ fsync: string; version: string }>(
      `SELECT current_setting('fsync') AS fsync, current_setting('server_version') AS version`,
    );
    console.log(
      `template statements: ${schemas} schemas (+${WARM_UP} warm-up) in ${admin ? 'a new database' : 'BENCH_TEMPLATE_DATABASE_URL'}, PostgreSQL ${rows[0].version}, fsync ${rows[0].fsync}`,
    );
    const samples = await timeTemplate(client, schemas, prefix);
    const means = [...samples].map(([key, times]) => ({
      key,
      mean: times.reduce((sum, t) => sum + t, 0) / schemas,
    }));
    const total = means.reduce((sum, { mean }) => sum + mean, 0);
    for (const { key, mean } of means.sort((a, b) => b.mean - a.mean)) {
      console.log(
        `${mean.toFixed(2).padStart(8)} ms ${((100 * mean) / total).toFixed(1).padStart(5)} %  ${key}`,
      );
    }
    console.log(`${total.toFixed(2).padStart(8)} ms 100.0 %  one schema, in all`);
    if (!admin) {
      for (let i = 0; i < schemas + WARM_UP; i++) {
        await client.query(`DROP SCHEMA IF EXISTS ${prefix}${i} CASCADE`);
      }
    }
  } finally {
    await client.end().catch(() => undefined);
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
      await admin.end();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
