import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TENANT_ROLE_COMMENT_PREFIX } from '@platform/database';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
// Identifiers are interpolated into DDL (CREATE/DROP DATABASE cannot take bind parameters), so
// only names that need no quoting are accepted.
const SAFE_NAME = /^[a-z0-9_]+$/;
const MAX_IDENTIFIER_LENGTH = 63;

function adminUrl(): string {
  return process.env.TEST_PG_ADMIN_URL ?? DEFAULT_ADMIN_URL;
}

function databaseName(prefix: string): string {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`.toLowerCase();
  if (!SAFE_NAME.test(name) || name.length > MAX_IDENTIFIER_LENGTH) {
    throw new Error(
      `invalid test database name ${JSON.stringify(name)}: use a prefix of [a-z0-9_]`,
    );
  }
  return name;
}

function urlFor(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function dropDatabase(name: string): Promise<void> {
  await withAdmin(async (admin) => {
    // Pools leaked by a failed test would otherwise make DROP wait or fail; FORCE alone does not
    // cover backends that connect between the terminate and the drop, so do both.
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await dropTenantRolesOfGoneDatabases(admin);
  });
}

/**
 * Tenant roles are cluster-wide and outlive the database their tenant lived in. Each carries
 * its database's name in its comment (see ensureTenantRole), so once that database is gone, its
 * roles go too, including those left by a test run that died before cleaning up.
 */
export async function dropTenantRolesOfGoneDatabases(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ role: string }>(
    `SELECT r.rolname AS role
       FROM pg_roles r
       JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass
      WHERE r.rolname ~ '^t_[0-9a-f]{32}$'
        AND starts_with(d.description, $1)
        AND NOT EXISTS (
              SELECT 1 FROM pg_database db
               WHERE starts_with(d.description, $1 || db.datname || ';'))`,
    [TENANT_ROLE_COMMENT_PREFIX],
  );
  for (const { role } of rows) {
    try {
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    } catch {
      // Still owning something in a live database (a concurrent test): that test drops it.
    }
  }
}

/** Creates an empty, uniquely named database; `drop()` is idempotent. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = databaseName(prefix);
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}"`));
  return { name, url: urlFor(name), drop: () => dropDatabase(name) };
}
