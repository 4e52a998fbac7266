import type { PoolClient } from 'pg';
import type { TenantRef } from '@platform/tenancy';
import type { ClusterConnections } from './cluster-connections';
import { createTenantRoles, dropTenantRoles, retireTenantRole } from './database-roles';

/**
 * Tenant roles made and removed in batches, on the tenants' clusters (see createTenantRoles for
 * why). Each call borrows one connection of the cluster's pool, and destroys it after a failure
 * rather than risk handing back a connection with a transaction still open.
 */
export class TenantRoleBatches {
  constructor(
    private readonly clusters: ClusterConnections,
    private readonly dataPlaneUser: string,
  ) {}

  /** Creates the missing roles of `tenants` on `cluster` in one commit; returns how many. */
  async create(
    cluster: string,
    tenants: readonly Pick<TenantRef, 'id' | 'schemaName'>[],
  ): Promise<number> {
    return this.withClient(cluster, (client) =>
      createTenantRoles(client, tenants, this.dataPlaneUser),
    );
  }

  /** Strips a deleted tenant's role of everything it owns; `drop` removes it later. */
  async retire(tenant: TenantRef): Promise<void> {
    await this.withClient(tenant.cluster, (client) => retireTenantRole(client, tenant));
  }

  /** Drops the named tenant roles that still exist on `cluster` in one commit; returns how many. */
  async drop(cluster: string, names: readonly string[]): Promise<number> {
    return this.withClient(cluster, (client) => dropTenantRoles(client, names));
  }

  private async withClient<T>(
    cluster: string,
    work: (client: PoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await this.clusters.pool(cluster).connect();
    try {
      const result = await work(client);
      client.release();
      return result;
    } catch (error) {
      client.release(true);
      throw error;
    }
  }
}
