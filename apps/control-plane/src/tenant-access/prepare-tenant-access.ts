import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { ControlPlaneConfig } from '@platform/config';
import {
  PLATFORM_SCHEMA,
  createTenantRoles,
  ensureTenantRole,
  prepareDataPlaneLogin,
} from '@platform/database';
import type { TenantRef } from '@platform/tenancy';

const logger = new Logger('TenantAccess');

interface TenantRow {
  id: string;
  slug: string;
  schema_name: string;
  cluster: string;
}

/**
 * At start, under the registry's migration lock: the data plane's login on every cluster, and a
 * role for every tenant that has none yet (tenants made before tenant roles existed, or whose
 * role went missing), with its schema handed over to it. A no-op in steady state: one query per
 * cluster finds nothing to do.
 */
export async function prepareTenantAccess(
  registry: Client,
  config: ControlPlaneConfig,
): Promise<void> {
  const login = {
    user: config.dataPlaneLogin.user,
    password: config.dataPlaneLogin.password?.reveal() ?? null,
  };
  for (const cluster of config.clusters) {
    const isMain = cluster.name === 'main';
    const client = isMain
      ? registry
      : new Client({ connectionString: cluster.url.reveal(), application_name: 'tenant-access' });
    if (!isMain) await client.connect();
    try {
      const { setConfigRevoked } = await prepareDataPlaneLogin(client, login, {
        holdsRegistry: isMain,
        registrySchema: PLATFORM_SCHEMA,
      });
      if (!setConfigRevoked) {
        logger.warn(
          `Cluster "${cluster.name}": not a superuser, so set_config() stays callable by tenant roles; revoke EXECUTE on pg_catalog.set_config(text, text, boolean) from PUBLIC and grant it to ${login.user} by hand`,
        );
      }
      const missing = await tenantsWithoutRole(registry, client, cluster.name);
      // Missing roles in one commit first (data-plane backends rebuild their role lists once,
      // not once per tenant); ensureTenantRole then only hands each schema over.
      await createTenantRoles(client, missing, login.user);
      for (const tenant of missing) await ensureTenantRole(client, tenant, login.user);
      if (missing.length > 0) {
        logger.log(`Cluster "${cluster.name}": gave ${missing.length} tenant(s) their own role`);
      }
    } finally {
      if (!isMain) await client.end();
    }
  }
}

async function tenantsWithoutRole(
  registry: Client,
  cluster: Client,
  clusterName: string,
): Promise<TenantRef[]> {
  const { rows } = await registry.query<TenantRow>(
    `SELECT id, slug, schema_name, cluster FROM ${PLATFORM_SCHEMA}.tenants
      WHERE cluster = $1 AND status <> 'deleted'`,
    [clusterName],
  );
  if (rows.length === 0) return [];
  const { rows: missing } = await cluster.query<{ name: string }>(
    `SELECT s.name FROM unnest($1::text[]) AS s(name)
      WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = s.name)
         OR EXISTS (SELECT 1 FROM pg_namespace n JOIN pg_roles r ON r.rolname = n.nspname
                     WHERE n.nspname = s.name AND n.nspowner <> r.oid)`,
    [rows.map((row) => row.schema_name)],
  );
  const names = new Set(missing.map((row) => row.name));
  return rows
    .filter((row) => names.has(row.schema_name))
    .map((row) => ({
      id: row.id,
      slug: row.slug,
      schemaName: row.schema_name,
      cluster: row.cluster,
    }));
}
