import { Injectable, Logger } from '@nestjs/common';
import { TenantSchemaMigrator } from '@platform/database';
import { runInTenant } from '@platform/tenancy';
import { FleetMetrics } from './fleet.metrics';
import { FleetQueue } from './fleet.queue';
import { MigrationRunRepository } from './migration-run.repository';
import type { ClaimedTenant, MigrationRun, RunPhase, TenantOutcome } from './migration-run.types';

const BATCH_SIZE = 10;
/** Pause before looking again while others hold the rows this claimer waits for. */
const CANARY_WAIT_MS = 100;
/** Bounds the claim loop; a run of any realistic size ends long before. */
const MAX_ITERATIONS = 1_000_000;

type Next = { kind: 'batch'; tenants: ClaimedTenant[] } | { kind: 'wait' } | { kind: 'finish' };

/**
 * One claimer of a run: takes tenants (canaries first, alone), migrates each in its own
 * transaction under its own lock, records outcomes in batches, and stops when the run is paused,
 * cancelled or failed, or when nothing is left. Many claimers on many workers share a run.
 */
@Injectable()
export class MigrationRunExecutor {
  private readonly logger = new Logger(MigrationRunExecutor.name);

  constructor(
    private readonly runs: MigrationRunRepository,
    private readonly migrator: TenantSchemaMigrator,
    private readonly metrics: FleetMetrics,
    private readonly queue: FleetQueue,
  ) {}

  async drive(runId: string, generation: number, claimer: string): Promise<void> {
    const released = await this.runs.releaseClaims(runId, claimer);
    if (released > 0) {
      this.logger.warn({ runId, claimer, released }, 'claimer restarted; gave back its tenants');
    }
    let canaryDone = false;
    for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
      const run = await this.runs.find(runId);
      // Paused, failed, cancelled, finished, or resumed under a newer generation of claimers.
      if (run?.status !== 'running' || run.generation !== generation) return;
      const next = await this.next(run, claimer, canaryDone);
      if (next.kind === 'wait') {
        await new Promise((resolve) => setTimeout(resolve, CANARY_WAIT_MS));
        continue;
      }
      if (next.kind === 'finish') {
        if ((await this.finish(run)) !== 'retry') return;
        await new Promise((resolve) => setTimeout(resolve, CANARY_WAIT_MS));
        continue;
      }
      canaryDone ||= next.tenants.every((tenant) => tenant.phase === 'main');
      const outcomes: TenantOutcome[] = [];
      for (const tenant of next.tenants) outcomes.push(await this.migrateOne(run, tenant));
      await this.runs.record(runId, outcomes);
      if (outcomes.some((outcome) => outcome.status === 'failed')) await this.enforcePolicy(run);
    }
  }

  private async next(run: MigrationRun, claimer: string, canaryDone: boolean): Promise<Next> {
    if (!canaryDone) {
      const canary = await this.runs.claim(run.id, 'canary', claimer, 1);
      if (canary.length > 0) return { kind: 'batch', tenants: canary };
      const canaryState = await this.phaseState(run.id, 'canary');
      if (canaryState.failed > 0) {
        await this.runs.transition(
          run.id,
          ['running'],
          'failed',
          `canary failed on ${canaryState.failed} tenant(s); nothing else was migrated`,
        );
        return { kind: 'finish' };
      }
      // A canary that another claimer holds (or is just taking: SKIP LOCKED hid it from us)
      // is still undecided; nobody touches the rest of the fleet until every canary succeeded.
      if (canaryState.running + canaryState.pending > 0) {
        await this.releaseOrphans(run.id);
        return { kind: 'wait' };
      }
    }
    const main = await this.runs.claim(run.id, 'main', claimer, BATCH_SIZE);
    return main.length > 0 ? { kind: 'batch', tenants: main } : { kind: 'finish' };
  }

  private async phaseState(runId: string, phase: RunPhase) {
    const state = { pending: 0, running: 0, failed: 0 };
    for (const row of await this.runs.counts(runId)) {
      if (row.phase !== phase) continue;
      if (row.status === 'pending') state.pending += row.n;
      if (row.status === 'running') state.running += row.n;
      if (row.status === 'failed') state.failed += row.n;
    }
    return state;
  }

  /**
   * Rows held by a claimer whose job can no longer run (Bull gave up on it after repeated
   * crashes, or Redis lost it) would stay `running` forever: give them back to the run.
   */
  private async releaseOrphans(runId: string): Promise<number> {
    let released = 0;
    for (const claimer of await this.runs.claimers(runId)) {
      if (await this.queue.isAlive(claimer)) continue;
      const count = await this.runs.releaseClaims(runId, claimer);
      if (count > 0)
        this.logger.warn({ runId, claimer, released: count }, 'released orphaned claims');
      released += count;
    }
    return released;
  }

  private async migrateOne(run: MigrationRun, tenant: ClaimedTenant): Promise<TenantOutcome> {
    const started = performance.now();
    try {
      // A platform job, not the tenant's: unlike the tenant jobs (common/tenant-job.ts) it does
      // not stop for a suspended tenant. Suspension is reversible, and a resumed tenant must
      // come back on the schema version the code now running expects; skipping it would leave
      // it behind every later deploy. The plan takes active, suspended and pooled schemas only,
      // and a tenant deleted mid-run is still migrated: its schema is kept for a restore, which
      // should not need a migration first. It still runs in the tenant's context, so its log
      // lines carry the tenant id.
      const outcome = await runInTenant(tenant, () =>
        this.migrator.migrate(tenant, run.targetVersion),
      );
      const seconds = (performance.now() - started) / 1000;
      const label = outcome.applied.length > 0 ? 'migrated' : 'unchanged';
      this.metrics.tenants.inc({ outcome: label });
      this.metrics.duration.observe({ outcome: label }, seconds);
      return {
        tenantId: tenant.id,
        status: 'succeeded',
        fromVersion: outcome.fromVersion,
        toVersion: outcome.toVersion,
        durationMs: Math.round(seconds * 1000),
        error: null,
      };
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      this.metrics.tenants.inc({ outcome: 'failed' });
      this.metrics.duration.observe({ outcome: 'failed' }, seconds);
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        { runId: run.id, tenantId: tenant.id, err: message },
        'tenant migration failed',
      );
      // The migration rolled back, so the schema is where it was; say where that is.
      const fromVersion = await this.migrator.currentVersion(tenant).catch(() => null);
      return {
        tenantId: tenant.id,
        status: 'failed',
        fromVersion,
        toVersion: null,
        durationMs: Math.round(seconds * 1000),
        error: message,
      };
    }
  }

  private async enforcePolicy(run: MigrationRun): Promise<void> {
    if (run.maxFailures === null) return;
    const { failed } = await this.runs.totals(run.id);
    if (failed > run.maxFailures) {
      await this.runs.transition(
        run.id,
        ['running'],
        'failed',
        `${failed} tenant(s) failed, more than the limit of ${run.maxFailures}`,
      );
    }
  }

  /** The last claimer to find nothing left closes the run; others see it closed and stop. */
  private async finish(run: MigrationRun): Promise<'closed' | 'others-working' | 'retry'> {
    const totals = await this.runs.totals(run.id);
    if (totals.running > 0 && (await this.releaseOrphans(run.id)) > 0) return 'retry';
    if (totals.pending > 0) return 'retry';
    if (totals.running > 0) return 'others-working';
    const closed =
      totals.failed > 0
        ? await this.runs.transition(
            run.id,
            ['running'],
            'failed',
            `${totals.failed} tenant(s) failed`,
          )
        : await this.runs.transition(run.id, ['running'], 'completed');
    if (closed) {
      this.logger.log({ runId: run.id, ...totals }, 'migration run finished');
    }
    return 'closed';
  }
}
