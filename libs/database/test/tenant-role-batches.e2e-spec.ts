/**
 * Tenant roles made and dropped in batches, against a real PostgreSQL: one commit per batch
 * (every role of a batch carries the same creating transaction id), idempotent, safe when two
 * callers race, and a drop that hands whatever the roles still own to the platform's owner.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { schemaNameForTenant } from '@platform/tenancy';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import {
  TENANT_ROLE_COMMENT_PREFIX,
  createTenantRoles,
  dropTenantRoles,
  ensureTenantRole,
  retireTenantRole,
} from '../src/database-roles';

const LOGIN = 'platform_data_plane';

const newTenants = (count: number) =>
  Array.from({ length: count }, () => {
    const id = randomUUID();
    return {
      id,
      slug: `s-${id.slice(0, 8)}`,
      schemaName: schemaNameForTenant(id),
      cluster: 'main',
    };
  });

describe('tenant role batches (real PostgreSQL)', () => {
  let database: TestDatabase;
  let client: Client;
  let other: Client;

  beforeAll(async () => {
    database = await createTestDatabase('role_batches');
    client = new Client({ connectionString: database.url });
    other = new Client({ connectionString: database.url });
    await Promise.all([client.connect(), other.connect()]);
    await client.query(
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${LOGIN}') THEN
           CREATE ROLE ${LOGIN} LOGIN NOINHERIT;
         END IF;
       EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
    );
  });

  afterAll(async () => {
    await client?.end();
    await other?.end();
    await database?.drop();
  });

  /** Each role's creating transaction, membership for the login, attributes and comment. */
  const rolesOf = async (names: string[]) =>
    (
      await client.query<{
        name: string;
        xmin: string;
        member: boolean;
        login: boolean;
        inherit: boolean;
        comment: string | null;
      }>(
        `SELECT r.rolname AS name, a.xmin::text AS xmin, r.rolcanlogin AS login,
                r.rolinherit AS inherit, shobj_description(r.oid, 'pg_authid') AS comment,
                pg_has_role('${LOGIN}', r.oid, 'MEMBER') AS member
           FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid
          WHERE r.rolname = ANY($1::text[]) ORDER BY r.rolname`,
        [names],
      )
    ).rows;

  it('creates a batch of roles in one transaction, each granted to the login', async () => {
    const tenants = newTenants(5);
    const names = tenants.map((tenant) => tenant.schemaName);
    expect(await createTenantRoles(client, tenants, LOGIN)).toBe(5);

    const roles = await rolesOf(names);
    expect(roles.map((role) => role.name)).toEqual([...names].sort());
    expect(new Set(roles.map((role) => role.xmin)).size).toBe(1);
    for (const role of roles) {
      const tenant = tenants.find((candidate) => candidate.schemaName === role.name);
      expect(role).toMatchObject({ member: true, login: false, inherit: false });
      expect(role.comment).toBe(
        `${TENANT_ROLE_COMMENT_PREFIX}${database.name}; tenant=${tenant?.id}`,
      );
    }
    await dropTenantRoles(client, names);
  });

  it('skips roles that exist, so a batch cut short is completed by running it again', async () => {
    const tenants = newTenants(3);
    expect(await createTenantRoles(client, tenants.slice(0, 1), LOGIN)).toBe(1);
    const [first] = await rolesOf([tenants[0].schemaName]);

    expect(await createTenantRoles(client, tenants, LOGIN)).toBe(2);
    expect(await createTenantRoles(client, tenants, LOGIN)).toBe(0);
    const roles = await rolesOf(tenants.map((tenant) => tenant.schemaName));
    expect(roles).toHaveLength(3);
    // The role that was there is untouched.
    expect(roles.find((role) => role.name === first.name)?.xmin).toBe(first.xmin);
    await dropTenantRoles(
      client,
      tenants.map((tenant) => tenant.schemaName),
    );
  });

  it('lets two callers make overlapping batches at once without an error', async () => {
    const tenants = newTenants(6);
    const [a, b] = await Promise.all([
      createTenantRoles(client, tenants.slice(0, 4), LOGIN),
      createTenantRoles(other, tenants.slice(2), LOGIN),
    ]);
    expect(a + b).toBe(6);
    expect(await rolesOf(tenants.map((tenant) => tenant.schemaName))).toHaveLength(6);
    await dropTenantRoles(
      client,
      tenants.map((tenant) => tenant.schemaName),
    );
  });

  it('onboards onto a reserved role without rewriting its catalog rows', async () => {
    const [tenant] = newTenants(1);
    await createTenantRoles(client, [tenant], LOGIN);
    const catalogRows = `SELECT (SELECT xmin::text FROM pg_authid WHERE rolname = $1) AS role,
              (SELECT string_agg(xmin::text, ',') FROM pg_auth_members
                WHERE roleid = $1::regrole) AS memberships`;
    const before = (await client.query(catalogRows, [tenant.schemaName])).rows[0];

    await ensureTenantRole(client, tenant, LOGIN);

    // pg_authid and pg_auth_members untouched: nothing makes backends rebuild their role lists.
    expect((await client.query(catalogRows, [tenant.schemaName])).rows[0]).toEqual(before);
    const { rows } = await client.query<{ owner: string }>(
      'SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = $1',
      [tenant.schemaName],
    );
    expect(rows).toEqual([{ owner: tenant.schemaName }]);
    await dropTenantRoles(client, [tenant.schemaName]);
  });

  it('retires a role (it owns nothing after) and drops retired roles together', async () => {
    const tenants = newTenants(2);
    for (const tenant of tenants) await ensureTenantRole(client, tenant, LOGIN);
    const [kept, doomed] = tenants;
    await client.query(`SET ROLE ${doomed.schemaName}`);
    await client.query(`CREATE TABLE ${doomed.schemaName}.notes (id int)`);
    await client.query('RESET ROLE');

    await retireTenantRole(client, doomed);
    const owners = await client.query<{ schema: string; table: string }>(
      `SELECT (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1) AS schema,
              (SELECT relowner::regrole::text FROM pg_class WHERE oid = $2::regclass) AS table`,
      [doomed.schemaName, `${doomed.schemaName}.notes`],
    );
    expect(owners.rows).toEqual([{ schema: 'postgres', table: 'postgres' }]);
    expect(await rolesOf([doomed.schemaName])).toHaveLength(1);

    // A missing name is skipped; the kept tenant's schema, made by it, goes back to the platform.
    const missing = schemaNameForTenant(randomUUID());
    expect(await dropTenantRoles(client, [doomed.schemaName, kept.schemaName, missing])).toBe(2);
    expect(await rolesOf([doomed.schemaName, kept.schemaName])).toEqual([]);
    const schemas = await client.query<{ owner: string }>(
      `SELECT nspowner::regrole::text AS owner FROM pg_namespace
        WHERE nspname = ANY($1::text[])`,
      [[doomed.schemaName, kept.schemaName]],
    );
    expect(schemas.rows).toEqual([{ owner: 'postgres' }, { owner: 'postgres' }]);
  });

  it('lets two callers drop overlapping sets at once, each role dropped once', async () => {
    const tenants = newTenants(6);
    await createTenantRoles(client, tenants, LOGIN);
    const names = tenants.map((tenant) => tenant.schemaName);
    const [a, b] = await Promise.all([
      dropTenantRoles(client, names.slice(0, 4)),
      dropTenantRoles(other, names.slice(2)),
    ]);
    expect(a + b).toBe(6);
    expect(await rolesOf(names)).toEqual([]);
  });

  it('refuses a name that is not a tenant role, touching nothing', async () => {
    await expect(dropTenantRoles(client, ['postgres'])).rejects.toThrow(/tenant schema name/);
    await expect(dropTenantRoles(client, [`t_x'; DROP ROLE postgres; --`])).rejects.toThrow(
      /tenant schema name/,
    );
    const { rows } = await client.query("SELECT 1 FROM pg_roles WHERE rolname = 'postgres'");
    expect(rows).toHaveLength(1);
  });
});
