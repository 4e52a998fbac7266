import type { QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import { driverPool } from './driver-pool';
import { queryInOneBatch } from './transaction-batch.query';

const RELAXED = [`SELECT set_config('synchronous_commit', 'off', true)`];

/**
 * One statement in its own transaction whose COMMIT does not wait for the WAL to reach disk
 * (`synchronous_commit = off` for that transaction only), in one round trip.
 *
 * Only for bookkeeping that may be lost, and that is all a relaxed commit risks: if the
 * PostgreSQL server itself crashes within a fraction of a second after the commit, the write is
 * gone as if it never ran. Never torn, never reordered: WAL is one sequence per cluster, so a
 * write lost this way takes every later commit of that cluster with it, and a durable commit
 * that follows flushes it too. A process that dies (a worker, not the server) loses nothing.
 *
 * The saga's step records qualify: a step whose "succeeded" is lost runs again, and every step
 * is idempotent because Bull already re-runs stalled jobs. Each such commit saves a WAL flush
 * (about 1 ms here; far more on network disks). The setting and the statement are one implicit
 * transaction (TransactionBatchQuery): its commit, at the batch's end, is the relaxed one.
 */
export function queryWithRelaxedCommit<R extends QueryResultRow = QueryResultRow>(
  dataSource: DataSource,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  return queryInOneBatch<R>(driverPool(dataSource), RELAXED, sql, params);
}
