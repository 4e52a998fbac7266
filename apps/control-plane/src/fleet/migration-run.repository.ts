import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type {
  ClaimedTenant,
  MigrationRun,
  RunCounts,
  RunPhase,
  RunStatus,
  RunTenantOutcomeView,
  RunTenantStatus,
  TenantOutcome,
} from './migration-run.types';

/** Tenants whose schemas a fleet run migrates: those that exist and are being served. */
/** Warm-pool schemas are upgraded like tenants, so a claimed one is never behind. */
const MIGRATABLE_STATUSES = ['active', 'suspended', 'pooled'];
const MAX_ERROR_LENGTH = 2000;

interface RunRow {
  id: string;
  target_version: number;
  concurrency: number;
  max_failures: number | null;
  status: RunStatus;
  status_reason: string | null;
  generation: number;
  requested_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface NewRun {
  readonly id: string;
  readonly targetVersion: number;
  readonly concurrency: number;
  readonly maxFailures: number | null;
  readonly requestedBy: string;
  /** Tenant ids that go first, alone; the rest waits until every one of them succeeded. */
  readonly canaryTenantIds: readonly string[];
  readonly canaryCount: number;
}

/** SQL for runs and their per-tenant rows. Claims use SKIP LOCKED so claimers never collide. */
@Injectable()
export class MigrationRunRepository {
  constructor(@InjectDataSource() private readonly registry: DataSource) {}

  /** The run and one pending row per migratable tenant, in one transaction. */
  async create(run: NewRun): Promise<void> {
    await this.registry.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO platform.migration_runs
           (id, target_version, concurrency, max_failures, status, requested_by, started_at)
         VALUES ($1, $2, $3, $4, 'running', $5, now())`,
        [run.id, run.targetVersion, run.concurrency, run.maxFailures, run.requestedBy],
      );
      // Canary: the named tenants, else the first N by creation (oldest tenants are the most
      // representative of real data); positions keep the order stable for resumes.
      await manager.query(
        `INSERT INTO platform.migration_run_tenants (run_id, tenant_id, phase, position, status)
         SELECT $1, t.id,
                CASE WHEN t.id = ANY($3::uuid[]) OR ordinal <= $4 THEN 'canary' ELSE 'main' END,
                ordinal, 'pending'
           FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS ordinal
                   FROM platform.tenants WHERE status = ANY($2::text[])) t`,
        [run.id, MIGRATABLE_STATUSES, run.canaryTenantIds, run.canaryCount],
      );
    });
  }

  async find(runId: string): Promise<MigrationRun | null> {
    const rows = await this.registry.query<RunRow[]>(
      `SELECT * FROM platform.migration_runs WHERE id = $1`,
      [runId],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  async list(limit: number, offset: number): Promise<MigrationRun[]> {
    const rows = await this.registry.query<RunRow[]>(
      `SELECT * FROM platform.migration_runs ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return rows.map(toRun);
  }

  async counts(runId: string): Promise<{ phase: RunPhase; status: RunTenantStatus; n: number }[]> {
    return this.registry.query(
      `SELECT phase, status, count(*)::int AS n FROM platform.migration_run_tenants
        WHERE run_id = $1 GROUP BY phase, status`,
      [runId],
    );
  }

  async totals(runId: string): Promise<RunCounts> {
    const counts: RunCounts = { pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
    for (const row of await this.counts(runId)) counts[row.status] += row.n;
    return counts;
  }

  async outcomes(
    runId: string,
    status: RunTenantStatus | null,
    limit: number,
    offset: number,
  ): Promise<RunTenantOutcomeView[]> {
    return this.registry.query(
      `SELECT r.tenant_id AS "tenantId", t.slug, r.phase, r.status, r.attempts,
              r.from_version AS "fromVersion", r.to_version AS "toVersion",
              r.duration_ms AS "durationMs", r.error, r.finished_at AS "finishedAt"
         FROM platform.migration_run_tenants r JOIN platform.tenants t ON t.id = r.tenant_id
        WHERE r.run_id = $1 AND ($2::text IS NULL OR r.status = $2)
        ORDER BY r.position LIMIT $3 OFFSET $4`,
      [runId, status, limit, offset],
    );
  }

  /**
   * Takes up to `limit` pending tenants of one phase for `claimer`. SKIP LOCKED: concurrent
   * claimers (on any number of workers) each get different rows, and nobody waits.
   */
  async claim(
    runId: string,
    phase: RunPhase,
    claimer: string,
    limit: number,
  ): Promise<ClaimedTenant[]> {
    return this.registry.query(
      `WITH claimed AS (
         UPDATE platform.migration_run_tenants r
            SET status = 'running', claimed_by = $3, attempts = attempts + 1
          WHERE (r.run_id, r.tenant_id) IN (
                  SELECT run_id, tenant_id FROM platform.migration_run_tenants
                   WHERE run_id = $1 AND phase = $2 AND status = 'pending'
                   ORDER BY position LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING r.tenant_id, r.phase, r.position)
       SELECT t.id, t.slug, t.schema_name AS "schemaName", t.cluster, c.phase
         FROM claimed c JOIN platform.tenants t ON t.id = c.tenant_id
        ORDER BY c.position`,
      [runId, phase, claimer, limit],
    );
  }

  /** A claimer that starts again (its job re-run after a crash) first gives back what it held. */
  async releaseClaims(runId: string, claimer: string): Promise<number> {
    const [, affected] = await this.registry.query<[unknown, number]>(
      `UPDATE platform.migration_run_tenants SET status = 'pending', claimed_by = NULL
        WHERE run_id = $1 AND claimed_by = $2 AND status = 'running'`,
      [runId, claimer],
    );
    return affected;
  }

  /** Tenants of all running runs by status (for the progress gauge). */
  async countsOfRunningRuns(): Promise<Partial<RunCounts>> {
    const rows = await this.registry.query<{ status: RunTenantStatus; n: number }[]>(
      `SELECT r.status, count(*)::int AS n
         FROM platform.migration_run_tenants r
         JOIN platform.migration_runs m ON m.id = r.run_id AND m.status = 'running'
        GROUP BY r.status`,
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  /** Claimers holding rows of a run right now (by job id). */
  async claimers(runId: string): Promise<string[]> {
    const rows = await this.registry.query<{ claimed_by: string }[]>(
      `SELECT DISTINCT claimed_by FROM platform.migration_run_tenants
        WHERE run_id = $1 AND status = 'running' AND claimed_by IS NOT NULL`,
      [runId],
    );
    return rows.map((row) => row.claimed_by);
  }

  /** Records a batch of outcomes and the registry's copy of each tenant's version, together. */
  async record(runId: string, outcomes: readonly TenantOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.registry.transaction(async (manager: EntityManager) => {
      await manager.query(
        `UPDATE platform.migration_run_tenants r
            SET status = o.status, from_version = o.from_version, to_version = o.to_version,
                duration_ms = o.duration_ms, error = o.error, finished_at = now()
           FROM unnest($2::uuid[], $3::text[], $4::int[], $5::int[], $6::int[], $7::text[])
                AS o(tenant_id, status, from_version, to_version, duration_ms, error)
          WHERE r.run_id = $1 AND r.tenant_id = o.tenant_id`,
        [
          runId,
          outcomes.map((o) => o.tenantId),
          outcomes.map((o) => o.status),
          outcomes.map((o) => o.fromVersion),
          outcomes.map((o) => o.toVersion),
          outcomes.map((o) => o.durationMs),
          outcomes.map((o) => o.error?.slice(0, MAX_ERROR_LENGTH) ?? null),
        ],
      );
      const migrated = outcomes.filter((o) => o.status === 'succeeded' && o.toVersion !== null);
      if (migrated.length > 0) {
        await manager.query(
          `UPDATE platform.tenants t SET template_version = v.version, updated_at = now()
             FROM unnest($1::uuid[], $2::int[]) AS v(id, version)
            WHERE t.id = v.id AND t.template_version IS DISTINCT FROM v.version`,
          [migrated.map((o) => o.tenantId), migrated.map((o) => o.toVersion)],
        );
      }
    });
  }

  /** Moves a run between statuses; false when it was not in one of `from`. */
  async transition(
    runId: string,
    from: readonly RunStatus[],
    to: RunStatus,
    reason: string | null = null,
  ): Promise<boolean> {
    const terminal = to === 'completed' || to === 'failed' || to === 'cancelled';
    // TypeORM answers an UPDATE with [rows, affected count].
    const [, affected] = await this.registry.query<[unknown, number]>(
      `UPDATE platform.migration_runs
          SET status = $3, status_reason = $4,
              finished_at = CASE WHEN $5 THEN now() ELSE NULL END,
              generation = generation + CASE WHEN $3 = 'running' THEN 1 ELSE 0 END
        WHERE id = $1 AND status = ANY($2::text[])`,
      [runId, from, to, reason, terminal],
    );
    return affected > 0;
  }

  async resetForResume(runId: string): Promise<void> {
    await this.registry.query(
      `UPDATE platform.migration_run_tenants SET status = 'pending', claimed_by = NULL
        WHERE run_id = $1 AND status = 'failed'`,
      [runId],
    );
  }

  async skipPending(runId: string): Promise<void> {
    await this.registry.query(
      `UPDATE platform.migration_run_tenants SET status = 'skipped'
        WHERE run_id = $1 AND status = 'pending'`,
      [runId],
    );
  }

  async runningRuns(): Promise<MigrationRun[]> {
    const rows = await this.registry.query<RunRow[]>(
      `SELECT * FROM platform.migration_runs WHERE status = 'running'`,
    );
    return rows.map(toRun);
  }
}

function toRun(row: RunRow): MigrationRun {
  return {
    id: row.id,
    targetVersion: row.target_version,
    concurrency: row.concurrency,
    maxFailures: row.max_failures,
    status: row.status,
    statusReason: row.status_reason,
    generation: row.generation,
    requestedBy: row.requested_by,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
