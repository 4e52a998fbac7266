import { Client } from 'pg';

const DATABASE_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
// Two processes creating it at once: one sees 42P04, or 23505 from the catalog's unique index.
const ALREADY_CREATED = new Set(['42P04', '23505']);

/** Creates the database named in `url` when it is missing (the SPEC's "created if missing"). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!DATABASE_NAME_PATTERN.test(name)) {
    throw new Error(`DATABASE_URL names database "${name}", which is not a plain identifier`);
  }
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`).catch((error: { code?: string }) => {
        if (!error.code || !ALREADY_CREATED.has(error.code)) throw error;
      });
    }
  } finally {
    await client.end();
  }
}
