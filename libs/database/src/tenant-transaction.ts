import type { PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { TenantContext, type TenantRef } from '@platform/tenancy';
import type { ClusterConnections } from './cluster-connections';
import { Logger } from '@nestjs/common';
import { enterTenantPrepared, enterTenantStatement } from './database-roles';
import { TenantStatementNames } from './tenant-statement-names';
import { assertTenantStatement } from './tenant-statement.guard';
import {
  isPreparedStatementMismatch,
  isStalePreparedPlan,
  queryInOneBatch,
  rollbackQuietly,
} from './transaction-batch.query';

/** The handle a unit of tenant work gets: queries run inside the tenant's transaction. */
export interface TenantTransaction {
  readonly tenant: TenantRef;
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface TenantTransactionOptions {
  readonly readOnly?: boolean;
  /**
   * Run the statement's generic plan (made once per tenant and connection) instead of planning
   * it for every request; see EnterTenantOptions.genericPlan. Only with prepared statements.
   */
  readonly genericPlan?: boolean;
}

export interface TenantTransactionRunnerSettings {
  readonly statementTimeoutMs: number;
  /**
   * Enter the tenant with a statement each connection prepares once (DATABASE_PREPARED_STATEMENTS).
   * Off for a pooler that mixes server sessions under one connection (PgBouncer in transaction
   * mode before 1.21); when on and such a pooler is met anyway, the runner turns it off itself.
   */
  readonly preparedStatements: boolean;
  /**
   * With preparedStatements, each pooled connection also keeps up to this many of the tenants'
   * own statements prepared (one per statement text and tenant), so PostgreSQL parses each once
   * per connection (DATABASE_PREPARED_STATEMENTS_PER_CONNECTION); past it, statements are sent
   * unnamed. 0: only the statement that enters the tenant is prepared.
   */
  readonly preparedStatementsPerConnection: number;
}

/**
 * Opens a transaction on the tenant's cluster that acts as the tenant's own role and whose
 * `search_path` is that tenant's schema only.
 *
 * The role is the real barrier: the tenant role owns its schema and has no privilege on any other
 * tenant's schema or on the platform registry, so even a schema-qualified query written by
 * mistake fails with "permission denied". The search_path only makes unqualified names resolve.
 *
 * Why transaction-local: a session-level `SET search_path` survives `release()` in node-postgres
 * and leaks into the next borrower, and PgBouncer in transaction mode cannot track it at all.
 * A transaction-local setting (`SET LOCAL`, here `set_config(..., true)`, see
 * enterTenantStatement) dies with the transaction, whatever way it ends, so no connection ever
 * goes back to the pool carrying a tenant's path or role. The statement timeout is set the same
 * way (a per-connection setting would not survive PgBouncer's transaction pooling); the schema
 * name is validated and quoted by @platform/tenancy.
 *
 * Nothing here caches "the current path": a savepoint rollback could undo it behind our back.
 */
export class TenantTransactionRunner {
  private readonly logger = new Logger(TenantTransactionRunner.name);
  private readonly statementTimeoutMs: number;
  private preparedStatements: boolean;
  private readonly statementsPerConnection: number;
  private readonly statementNames = new TenantStatementNames();

  constructor(
    private readonly clusters: ClusterConnections,
    settings: TenantTransactionRunnerSettings,
  ) {
    this.statementTimeoutMs = settings.statementTimeoutMs;
    this.preparedStatements = settings.preparedStatements;
    this.statementsPerConnection = settings.preparedStatementsPerConnection;
  }

  /** Whether tenants are still entered with the prepared statement (tests, diagnostics). */
  get usesPreparedStatements(): boolean {
    return this.preparedStatements;
  }

  /**
   * One statement in its own tenant transaction: the tenant's settings and the statement leave as
   * one packet and come back as one, run by PostgreSQL as one implicit transaction that the
   * batch's Sync commits (TransactionBatchQuery). If the statement or its commit fails, nothing
   * of it is kept and this fails.
   */
  async query<R extends QueryResultRow = QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    options: TenantTransactionOptions = {},
    retried = false,
  ): Promise<R[]> {
    const tenant = TenantContext.current();
    assertTenantStatement(sql);
    const pool = this.clusters.tenantPool(tenant.cluster, tenant.id);
    if (!this.preparedStatements) {
      const enter = enterTenantStatement(tenant, this.statementTimeoutMs, options);
      return queryInOneBatch<R>(pool, [enter], sql, params);
    }
    const enter = enterTenantPrepared(tenant, this.statementTimeoutMs, options);
    const name = this.statementNames.nameOf(sql, tenant.schemaName);
    // A retry goes unnamed: the pool's other connections may hold the same stale statement.
    const named =
      name === null || this.statementsPerConnection === 0 || retried
        ? undefined
        : { name, maxPerConnection: this.statementsPerConnection };
    try {
      return await queryInOneBatch<R>(pool, [enter], sql, params, named);
    } catch (error) {
      if (isStalePreparedPlan(error) && !retried) {
        // A migration changed what the tenant's prepared statement returns; PostgreSQL refused it
        // before it ran, and its connection is gone. The next request prepares it afresh.
        return this.query<R>(sql, params, options, true);
      }
      if (!isPreparedStatementMismatch(error)) throw error;
      // Refused by name at Parse or Bind of the first statement: nothing of the batch ran, so it
      // is sent again, unprepared, as every later one will be.
      this.stopPreparing(error);
      return this.query<R>(sql, params, options);
    }
  }

  private stopPreparing(error: unknown): void {
    if (!this.preparedStatements) return;
    this.preparedStatements = false;
    this.logger.warn(
      { err: error },
      'a pooled connection lost its prepared statement (a pooler in transaction mode?): ' +
        'tenants are entered unprepared from now on; set DATABASE_PREPARED_STATEMENTS=false ' +
        'behind such a pooler',
    );
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
      const begin = options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN';
      await client.query(`${begin}; ${enterTenantStatement(tenant, this.statementTimeoutMs)}`);
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
}

function transactionHandle(client: PoolClient, tenant: TenantRef): TenantTransaction {
  return {
    tenant,
    async query<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
      assertTenantStatement(sql);
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
