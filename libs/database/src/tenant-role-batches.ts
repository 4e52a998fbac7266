import type { TenantRef } from '@platform/tenancy';
import type { ClusterConnections } from './cluster-connections';
import { createTenantRoles, dropTenantRoles, retireTenantRole } from './database-roles';

/**
 * Tenant roles made and removed in batches, on the tenants' clusters (see createTenantRoles for
 * why). Each call borrows one connection of the cluster's pool.
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
    const client = await this.clusters.pool(cluster).connect();
    try {
      return await createTenantRoles(client, tenants, this.dataPlaneUser);
    } finally {
      client.release();
    }
  }

  /** Strips a deleted tenant's role of everything it owns; `drop` removes it later. */
  async retire(tenant: TenantRef): Promise<void> {
    const client = await this.clusters.pool(tenant.cluster).connect();
    try {
      await retireTenantRole(client, tenant);
    } finally {
      client.release();
    }
  }

  /** Drops the named tenant roles that still exist on `cluster` in one commit; returns how many. */
  async drop(cluster: string, names: readonly string[]): Promise<number> {
    const client = await this.clusters.pool(cluster).connect();
    try {
      return await dropTenantRoles(client, names);
    } finally {
      client.release();
    }
  }
}
