import type { ClientBase } from 'pg';
import type { PreparedStatement } from './transaction-batch.query';
import {
  assertTenantSchemaName,
  quoteIdentifier,
  quoteTenantSchema,
  type TenantRef,
} from '@platform/tenancy';

/**
 * The platform tables the data plane reads, and nothing else of the registry: host resolution
 * (tenants, tenant_domains), certificates for SNI, the tenants' token signing keys. The data
 * plane's login gets SELECT on these and no other privilege on the `platform` schema; tenant
 * roles get nothing on it at all.
 */
export const DATA_PLANE_READABLE_TABLES: readonly string[] = [
  'tenants',
  'tenant_domains',
  'certificates',
  // Tenants' token-signing keys (sealed): the data plane signs and verifies access tokens.
  'tenant_signing_keys',
];

/** Every tenant role's comment starts so; the rest says which database and tenant it serves. */
export const TENANT_ROLE_COMMENT_PREFIX = 'platform tenant role; database=';

const DUPLICATE_OBJECT = '42710';
const UNIQUE_VIOLATION = '23505';

/**
 * A tenant's own PostgreSQL role: NOLOGIN, named like its schema, owner of the schema and of
 * everything in it. Cluster-wide (roles are), so it is created on the tenant's cluster.
 */
export function tenantRoleName(tenant: Pick<TenantRef, 'schemaName'>): string {
  return assertTenantSchemaName(tenant.schemaName);
}

/**
 * The one statement that makes the transaction it runs in act as the tenant, and only as the
 * tenant: the tenant's schema alone on the search_path, the statement timeout, read-only when
 * asked, and last the tenant's role, all transaction-local (`set_config(..., true)` is
 * `SET LOCAL`; it dies with the transaction, whatever way that ends). Read-only may be set at
 * any point of a transaction (only going back to read-write is refused once it has read), so
 * it needs no `BEGIN READ ONLY`.
 *
 * One statement rather than several `SET LOCAL`s: PostgreSQL parses and runs every statement of
 * a batch on its own, about 30 µs of backend CPU each, and the list of projects costs ~100 µs in
 * all (measured with three SETs: ~160). Only the data plane's login may call set_config()
 * (prepareDataPlaneLogin); the role goes last so that nothing in here runs as the tenant.
 * Names are validated by assertTenantSchemaName (`t_` and 32 hex digits), so they cannot break
 * out of the literals.
 */
export function enterTenantStatement(
  tenant: Pick<TenantRef, 'schemaName'>,
  statementTimeoutMs: number,
  options: { readonly readOnly?: boolean } = {},
): string {
  // The schema and its role share the validated name; lower-case, so it needs no quotes.
  const name = tenantRoleName(tenant);
  return (
    `SELECT set_config('search_path', '${name}', true), ` +
    `set_config('statement_timeout', '${Math.trunc(statementTimeoutMs)}', true), ` +
    (options.readOnly ? `set_config('transaction_read_only', 'on', true), ` : '') +
    `set_config('role', '${name}', true)`
  );
}

const ENTER_TENANT_SQL =
  `SELECT set_config('search_path', $1, true), set_config('statement_timeout', $2, true), ` +
  `set_config('plan_cache_mode', $3, true), set_config('role', $1, true)`;
const ENTER_TENANT_READ_ONLY_SQL =
  `SELECT set_config('search_path', $1, true), set_config('statement_timeout', $2, true), ` +
  `set_config('plan_cache_mode', $3, true), set_config('transaction_read_only', 'on', true), ` +
  `set_config('role', $1, true)`;

export interface EnterTenantOptions {
  readonly readOnly?: boolean;
  /**
   * The transaction's prepared statements run their generic plan, made once per statement and
   * connection, instead of being planned again for every set of parameters (`plan_cache_mode`).
   * Only for statements whose best plan does not depend on their parameters' values (a page of
   * a list by a fixed order): PostgreSQL left to itself plans `LIMIT $1` every time.
   */
  readonly genericPlan?: boolean;
}

/**
 * enterTenantStatement as a statement PostgreSQL parses and plans once per connection (the
 * tenant's name, the timeout and the plan cache mode are its parameters): about 15 µs less
 * backend CPU on every tenant request than parsing and planning the literal statement each time
 * (bench/README.md). Two names, because read-only is a different text.
 */
export function enterTenantPrepared(
  tenant: Pick<TenantRef, 'schemaName'>,
  statementTimeoutMs: number,
  options: EnterTenantOptions = {},
): PreparedStatement {
  const readOnly = options.readOnly === true;
  return {
    name: readOnly ? 'platform_enter_tenant_read_only' : 'platform_enter_tenant',
    text: readOnly ? ENTER_TENANT_READ_ONLY_SQL : ENTER_TENANT_SQL,
    values: [
      tenantRoleName(tenant),
      String(Math.trunc(statementTimeoutMs)),
      options.genericPlan === true ? 'force_generic_plan' : 'auto',
    ],
  };
}

/**
 * Creates what a tenant's schema needs on its cluster, idempotently: the role (if missing), the
 * data plane's right to switch into it, and the schema owned by it. A schema that already
 * exists under another owner (made before tenant roles, or by hand) is handed over with
 * everything in it. Run by the platform's owner login (superuser or CREATEROLE).
 *
 * A role made ahead by createTenantRoles (the reserve) is used as it is: granting a membership
 * that exists and commenting a role write neither pg_authid nor pg_auth_members, so onboarding
 * with a reserved role changes nothing that makes data-plane backends rebuild their role lists.
 */
export async function ensureTenantRole(
  client: ClientBase,
  tenant: TenantRef,
  dataPlaneUser: string,
): Promise<void> {
  const role = quoteTenantSchema(tenantRoleName(tenant));
  const { rows } = await client.query<{
    database: string;
    exists: boolean;
    schemaExists: boolean;
    superuser: boolean;
  }>(
    `SELECT current_database() AS database,
            EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists,
            EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS "schemaExists",
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
    [tenantRoleName(tenant)],
  );
  const { database, exists, schemaExists, superuser } = rows[0];
  if (!exists) await createRoleTolerantly(client, `CREATE ROLE ${role} NOLOGIN NOINHERIT`);
  // The rest as one multi-statement query: one round trip, one transaction, one commit.
  await client.query(
    [
      ...tenantRoleGrants(tenant, { database, dataPlaneUser, superuser }),
      `CREATE SCHEMA IF NOT EXISTS ${role} AUTHORIZATION ${role}`,
    ].join('; '),
  );
  // A schema made just now is the role's, empty. Only one that was there before is handed over:
  // that scans pg_class and pg_type by namespace, which no index serves (~20 ms of a new
  // tenant's schema step at 10,000 tenants, bench:onboarding).
  if (schemaExists) await handOverSchema(client, tenant);
}

/**
 * Creates the roles of tenants to come (the reserve) in one transaction, skipping those that
 * exist: one commit, so every data-plane backend rebuilds its list of roles once for the whole
 * batch. That rebuild is quadratic in the login's memberships (~200 ms per backend at 10,000
 * tenants on PostgreSQL 15; `npm run bench:role-churn`), which is why roles are not made one
 * onboarding at a time. Returns how many it created. Concurrent callers are serialised.
 */
export async function createTenantRoles(
  client: ClientBase,
  tenants: readonly Pick<TenantRef, 'id' | 'schemaName'>[],
  dataPlaneUser: string,
): Promise<number> {
  if (tenants.length === 0) return 0;
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('tenant-roles', 0))");
    const { rows } = await client.query<{ name: string; database: string; superuser: boolean }>(
      `SELECT s.name, current_database() AS database,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser
         FROM unnest($1::text[]) AS s(name)
        WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = s.name)`,
      [tenants.map((tenant) => tenantRoleName(tenant))],
    );
    const missing = new Set(rows.map((row) => row.name));
    const statements = tenants
      .filter((tenant) => missing.has(tenantRoleName(tenant)))
      .flatMap((tenant) => [
        `CREATE ROLE ${quoteTenantSchema(tenantRoleName(tenant))} NOLOGIN NOINHERIT`,
        ...tenantRoleGrants(tenant, {
          database: rows[0].database,
          dataPlaneUser,
          superuser: rows[0].superuser,
        }),
      ]);
    if (statements.length > 0) await client.query(statements.join('; '));
    await client.query('COMMIT');
    return missing.size;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The comment that ties a role to its database and tenant, and the memberships it needs. */
function tenantRoleGrants(
  tenant: Pick<TenantRef, 'id' | 'schemaName'>,
  context: { database: string; dataPlaneUser: string; superuser: boolean },
): string[] {
  const role = quoteTenantSchema(tenantRoleName(tenant));
  return [
    `COMMENT ON ROLE ${role} IS ${quoteLiteral(`${TENANT_ROLE_COMMENT_PREFIX}${context.database}; tenant=${tenant.id}`)}`,
    `GRANT ${role} TO ${quoteIdentifier(context.dataPlaneUser)}`,
    // A CREATEROLE owner that is not a superuser needs membership to migrate the schema as its
    // owner (PostgreSQL 15 does not grant it to a role's creator).
    ...(context.superuser ? [] : [`GRANT ${role} TO CURRENT_USER`]),
  ];
}

/**
 * Gives the schema and every object in it to the tenant role, when some are owned by someone
 * else (a no-op statement otherwise). One DO block: one round trip per schema, which matters when
 * a start-up backfills thousands of them.
 */
async function handOverSchema(client: ClientBase, tenant: TenantRef): Promise<void> {
  const schema = tenantRoleName(tenant);
  await client.query(`DO $$
DECLARE
  target oid := ${quoteLiteral(schema)}::regrole;
  ns oid := ${quoteLiteral(schema)}::regnamespace;
  item record;
BEGIN
  IF (SELECT nspowner FROM pg_namespace WHERE oid = ns) <> target THEN
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', ${quoteLiteral(schema)}, ${quoteLiteral(schema)});
  END IF;
  -- Tables take their indexes and owned sequences along; free-standing sequences go alone.
  FOR item IN
    SELECT c.relname, c.relkind FROM pg_class c
     WHERE c.relnamespace = ns AND c.relowner <> target
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
       AND NOT (c.relkind = 'S' AND EXISTS (
             SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I',
      CASE item.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
        WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      ${quoteLiteral(schema)}, item.relname, ${quoteLiteral(schema)});
  END LOOP;
  FOR item IN
    SELECT t.typname FROM pg_type t
     WHERE t.typnamespace = ns AND t.typowner <> target AND t.typtype IN ('e', 'd', 'r', 'm')
  LOOP
    EXECUTE format('ALTER TYPE %I.%I OWNER TO %I', ${quoteLiteral(schema)}, item.typname, ${quoteLiteral(schema)});
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS routine FROM pg_proc p
     WHERE p.pronamespace = ns AND p.proowner <> target
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.routine, ${quoteLiteral(schema)});
  END LOOP;
END $$`);
}

/**
 * Removes a deleted tenant's role. The (soft-)deleted schema is kept for recovery, so it and its
 * contents go back to the platform's owner first; nobody can switch into the tenant any more.
 */
export async function dropTenantRole(client: ClientBase, tenant: TenantRef): Promise<void> {
  await dropTenantRoles(client, [tenantRoleName(tenant)]);
}

/**
 * Takes everything a deleted tenant's role owns or may do away from it, and leaves the role
 * itself for dropTenantRoles to remove with others in one commit: ownership lives in
 * pg_namespace, pg_class and pg_shdepend, which data-plane backends' role lists do not depend
 * on, so this costs them nothing. A role that owns nothing lets nobody see the tenant's data.
 */
export async function retireTenantRole(client: ClientBase, tenant: TenantRef): Promise<void> {
  const name = tenantRoleName(tenant);
  const { rows } = await client.query<{ exists: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists',
    [name],
  );
  if (!rows[0]?.exists) return;
  const role = quoteTenantSchema(name);
  await client.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER; DROP OWNED BY ${role}`);
}

/**
 * Drops tenant roles (those that still exist) in one transaction, handing what they own to the
 * platform's owner first: one commit, so data-plane backends rebuild their role lists once for
 * all of them. Returns how many it dropped.
 */
export async function dropTenantRoles(
  client: ClientBase,
  names: readonly string[],
): Promise<number> {
  if (names.length === 0) return 0;
  const checked = names.map((name) => assertTenantSchemaName(name));
  await client.query('BEGIN');
  try {
    // Serialised with other batches, and existence read under the lock: two workers dropping
    // the same queue must not trip over a role the other one dropped a moment ago.
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('tenant-roles', 0))");
    const { rows } = await client.query<{ name: string }>(
      `SELECT s.name FROM unnest($1::text[]) AS s(name)
        WHERE EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = s.name)`,
      [checked],
    );
    if (rows.length > 0) {
      const roles = rows.map((row) => quoteTenantSchema(row.name)).join(', ');
      await client.query(
        `REASSIGN OWNED BY ${roles} TO CURRENT_USER; DROP OWNED BY ${roles}; DROP ROLE ${roles}`,
      );
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * The data plane's login and what it may do, on one cluster: log in, read the registry tables it
 * needs (on the cluster that holds the registry), and nothing else. NOINHERIT: without an
 * explicit SET ROLE it has none of its tenant roles' privileges, so a statement that forgot to
 * switch fails closed.
 *
 * Also takes `set_config()` away from PUBLIC, so a tenant role cannot change its role (or any
 * setting) from inside an expression, e.g. a SQL injection into a SELECT, and gives it to the
 * login alone, which enters every tenant transaction with it (enterTenantStatement). A tenant
 * role does not inherit from the login (the login is a member of the tenant roles, not the other
 * way round), so switched to a tenant, nothing may call it. Needs a superuser; on a managed
 * database without one, this part is skipped and reported.
 */
export async function prepareDataPlaneLogin(
  client: ClientBase,
  login: { user: string; password: string | null },
  options: { holdsRegistry: boolean; registrySchema: string },
): Promise<{ setConfigRevoked: boolean }> {
  const user = quoteIdentifier(login.user);
  const { rows } = await client.query<{ exists: boolean; superuser: boolean; database: string }>(
    `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            current_database() AS database`,
    [login.user],
  );
  const { exists, superuser, database } = rows[0];
  if (!exists) {
    await createRoleTolerantly(client, `CREATE ROLE ${user} LOGIN NOINHERIT`);
  } else if (!(await hasOnlyLoginAttributes(client, login.user))) {
    // Only when needed: two databases' control planes altering one role at once would collide.
    await client.query(
      `ALTER ROLE ${user} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS`,
    );
  }
  if (login.password !== null) {
    await client.query(`ALTER ROLE ${user} PASSWORD ${quoteLiteral(login.password)}`);
  }
  await client.query(`GRANT CONNECT ON DATABASE ${quoteIdentifier(database)} TO ${user}`);
  if (options.holdsRegistry) {
    const schema = quoteIdentifier(options.registrySchema);
    await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
    await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${user}`);
    for (const table of DATA_PLANE_READABLE_TABLES) {
      await client.query(`GRANT SELECT ON ${schema}.${quoteIdentifier(table)} TO ${user}`);
    }
  }
  if (!superuser) return { setConfigRevoked: false };
  await client.query(
    'REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC',
  );
  await client.query(
    `GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) TO ${user}`,
  );
  return { setConfigRevoked: true };
}

async function hasOnlyLoginAttributes(client: ClientBase, user: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(
    `SELECT rolcanlogin AND NOT rolinherit AND NOT rolsuper AND NOT rolcreatedb
            AND NOT rolcreaterole AND NOT rolbypassrls AS ok
       FROM pg_roles WHERE rolname = $1`,
    [user],
  );
  return rows[0]?.ok === true;
}

/** Two processes (or two test databases on one cluster) may create the same role at once. */
async function createRoleTolerantly(client: ClientBase, statement: string): Promise<void> {
  try {
    await client.query(statement);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== DUPLICATE_OBJECT && code !== UNIQUE_VIOLATION) throw error;
  }
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
