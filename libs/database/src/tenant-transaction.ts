import type { Writable } from 'node:stream';
import type { PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { TenantContext, quoteTenantSchema, type TenantRef } from '@platform/tenancy';
import type { ClusterConnections } from './cluster-connections';

/** The handle a unit of tenant work gets: queries run inside the tenant's transaction. */
export interface TenantTransaction {
  readonly tenant: TenantRef;
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface TenantTransactionOptions {
  readonly readOnly?: boolean;
}

/**
 * Opens a transaction on the tenant's cluster whose `search_path` is that tenant's schema only.
 *
 * Why transaction-local: a session-level `SET search_path` survives `release()` in node-postgres
 * and leaks into the next borrower, and PgBouncer in transaction mode cannot track it at all.
 * `SET LOCAL` dies with the transaction, whatever way it ends, so no connection ever goes back to
 * the pool carrying a tenant's path. BEGIN and the two SET LOCALs travel as one simple-protocol
 * message (one round trip); the schema name is validated and quoted by @platform/tenancy.
 *
 * Nothing here caches "the current path": a savepoint rollback could undo it behind our back.
 */
export class TenantTransactionRunner {
  constructor(
    private readonly clusters: ClusterConnections,
    private readonly statementTimeoutMs: number,
  ) {}

  /**
   * One statement in its own tenant transaction. BEGIN + SET LOCAL, the statement and COMMIT are
   * pipelined: written together, answered together, one round trip in all. If the statement
   * fails, PostgreSQL turns the COMMIT into a ROLLBACK; if the COMMIT fails, so does this.
   */
  async query<R extends QueryResultRow = QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    options: TenantTransactionOptions = {},
  ): Promise<R[]> {
    const tenant = TenantContext.current();
    const begin = this.beginStatement(tenant, options);
    const client = await this.clusters.tenantPool(tenant.cluster, tenant.id).connect();
    let destroyConnection = true;
    try {
      const corked = corkSocket(client);
      const pending = [
        client.query(begin),
        client.query<R>(extendedQuery(sql, params)),
        client.query('COMMIT'),
      ] as const;
      corked?.uncork();
      const [opened, statement, committed] = await Promise.allSettled(pending);
      if (opened.status === 'rejected') throw opened.reason;
      if (statement.status === 'rejected') throw statement.reason;
      if (committed.status === 'rejected') throw committed.reason;
      destroyConnection = false;
      return statement.value.rows;
    } catch (error) {
      // The COMMIT already ended the transaction unless the connection itself broke.
      destroyConnection = !(await rollbackQuietly(client));
      throw error;
    } finally {
      client.release(destroyConnection);
    }
  }

  /** Runs `work` for the tenant of the current context (it throws when there is none). */
  async run<T>(
    work: (tx: TenantTransaction) => Promise<T>,
    options: TenantTransactionOptions = {},
  ): Promise<T> {
    const tenant = TenantContext.current();
    const client = await this.clusters.tenantPool(tenant.cluster, tenant.id).connect();
    let destroyConnection = false;
    try {
      await client.query(this.beginStatement(tenant, options));
      const result = await work(transactionHandle(client, tenant));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      destroyConnection = !(await rollbackQuietly(client));
      throw error;
    } finally {
      client.release(destroyConnection);
    }
  }

  private beginStatement(tenant: TenantRef, options: TenantTransactionOptions): string {
    const mode = options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN';
    const timeout = Math.trunc(this.statementTimeoutMs);
    return `${mode}; SET LOCAL search_path TO ${quoteTenantSchema(tenant.schemaName)}; SET LOCAL statement_timeout = ${timeout}`;
  }
}

function transactionHandle(client: PoolClient, tenant: TenantRef): TenantTransaction {
  return {
    tenant,
    async query<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
      const result = await client.query<R>(extendedQuery(sql, params));
      return result.rows;
    },
  };
}

/**
 * Always the extended protocol: one statement per call, parameters never spliced into SQL.
 * (`queryMode` exists in pg at run time but not yet in @types/pg.)
 */
function extendedQuery(sql: string, params: unknown[]): QueryConfig {
  return { text: sql, values: params, queryMode: 'extended' } as QueryConfig;
}

/**
 * In pipeline mode node-postgres writes each query as soon as it is queued: three socket writes.
 * Corking the socket around the three calls sends them as one packet. (`connection.stream` is
 * node-postgres' own socket; without it this is just a no-op.)
 */
function corkSocket(client: PoolClient): Writable | null {
  const stream = (client as unknown as { connection?: { stream?: Writable } }).connection?.stream;
  if (!stream || typeof stream.cork !== 'function') return null;
  stream.cork();
  return stream;
}

/** Returns false when the connection could not roll back and must not be reused. */
async function rollbackQuietly(client: PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
