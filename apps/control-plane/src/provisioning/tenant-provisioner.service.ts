import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { queryWithRelaxedCommit } from '@platform/database';
import { TenantJobs, type TenantJobPolicy } from '../common/tenant-job';
import { TenantChangeNotifier } from '../tenants/tenant-change.notifier';
import { TenantEntity } from '../tenants/tenant.entity';
import type { ProvisioningStep } from './provisioning-step';
import { ProvisioningPipeline } from './provisioning.pipeline';
import { ProvisioningStepRepository } from './provisioning-step.repository';

/**
 * Onboarding runs for a tenant that is `provisioning`, and for an `active` one only to record
 * the activate step (see `provision`). A tenant deleted while its job waited or ran must not be
 * onboarded any further: no DNS record, certificate, invite or welcome mail for a tenant that
 * is gone. (Suspension starts from `active` only, so it cannot meet onboarding.)
 */
export const PROVISIONING_JOB: TenantJobPolicy = {
  job: 'provision-tenant',
  runsFor: ['provisioning', 'active'],
};

/** Warm pool: only a `warming` row is prepared; a claimed or removed one is left alone. */
export const WARM_SCHEMA_JOB: TenantJobPolicy = { job: 'warm-schema', runsFor: ['warming'] };

/** Statuses after which the rest of onboarding will never run: its steps are recorded skipped. */
const GONE: readonly string[] = ['deleted', 'deleting'];

export interface ProvisioningAttempt {
  /** On the last attempt a failure marks the tenant `failed`, with the reason, for ops to retry. */
  readonly finalAttempt: boolean;
}

/**
 * Runs the pipeline for one tenant: skips steps already recorded as done, records each step's
 * start, end and error, and re-enters the tenant's context itself (the job carries only an id).
 */
@Injectable()
export class TenantProvisioner {
  private readonly logger = new Logger(TenantProvisioner.name);

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly pipeline: ProvisioningPipeline,
    private readonly records: ProvisioningStepRepository,
    private readonly notifier: TenantChangeNotifier,
    private readonly jobs: TenantJobs,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async provision(tenantId: string, attempt: ProvisioningAttempt): Promise<void> {
    await this.exclusively(tenantId, async () => {
      const outcome = await this.jobs.run(PROVISIONING_JOB, tenantId, (tenant) =>
        this.provisionSteps(tenant, attempt),
      );
      if (!outcome.ran && outcome.status && GONE.includes(outcome.status)) {
        await this.records.abandon(tenantId, `not run: ${outcome.reason}`);
      }
    });
  }

  private async provisionSteps(tenant: TenantEntity, attempt: ProvisioningAttempt): Promise<void> {
    const tenantId = tenant.id;
    // Already active: the worker that ran the activate step died after it, and Bull re-ran the
    // stalled job. Activation comes last and records itself with its update, so this run finds
    // it done (a record from before that change is written now). Nothing else runs for an
    // active tenant.
    const steps =
      tenant.status === 'active'
        ? this.pipeline.steps.filter((step) => step.name === 'activate')
        : this.pipeline.steps;
    try {
      await this.runSteps(tenant, steps, PROVISIONING_JOB);
    } catch (error) {
      if (attempt.finalAttempt) await this.markFailed(tenantId, failureReason(error));
      throw error;
    }
  }

  /** Warm pool: prepares a `warming` tenant's schema, then offers it as `pooled`. */
  async warm(tenantId: string): Promise<void> {
    await this.exclusively(tenantId, async () => {
      await this.jobs.run(WARM_SCHEMA_JOB, tenantId, async (tenant) => {
        await this.runSteps(tenant, this.pipeline.schemaSteps);
        // Relaxed: if a server crash loses it, the schema stays `warming` and the next refill
        // runs its (done, or idempotent) steps again.
        await queryWithRelaxedCommit(
          this.registry,
          `UPDATE platform.tenants SET status = 'pooled', updated_at = now()
            WHERE id = $1 AND status = 'warming'`,
          [tenantId],
        );
      });
    });
  }

  /**
   * One runner per tenant at a time. Bull re-runs a job whose lock lapsed even when its first
   * worker is only slow, not dead; two runs of the same steps side by side could interleave
   * (two invites, the mailed one replaced by the other). A session advisory lock on its own
   * connection serialises them, and dies with the connection if the worker is killed; the
   * second run then re-reads the tenant and finds the work done.
   */
  private async exclusively(tenantId: string, work: () => Promise<void>): Promise<void> {
    const lock = this.registry.createQueryRunner();
    await lock.connect();
    const key = `provision:${tenantId}`;
    try {
      await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
      await work();
    } finally {
      await lock
        .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key])
        .catch(() => undefined);
      await lock.release();
    }
  }

  /**
   * Runs the steps not yet done, in the tenant's context (set by the caller's TenantJobs.run).
   * With `guard`, the tenant's status is read again before each step: a delete that lands
   * mid-onboarding stops it at the next step, and the steps left are recorded skipped.
   */
  private async runSteps(
    tenant: TenantEntity,
    steps: readonly ProvisioningStep[],
    guard?: TenantJobPolicy,
  ): Promise<void> {
    const tenantId = tenant.id;
    // Read once: this runner holds the tenant's lock (see exclusively), so no one else records.
    const done = await this.records.doneSteps(tenantId);
    for (const step of steps) {
      if (done.has(step.name)) continue;
      const stop = guard ? await this.jobs.stopReason(guard, tenantId) : null;
      if (stop !== null) {
        await this.records.abandon(tenantId, `not run: ${stop}`);
        return;
      }
      // The start is recorded while the step already works (on other connections), off the
      // step's path. It is awaited before the outcome is recorded, so the two records never
      // cross, and a step whose start could not be recorded still fails. Settled into a value
      // at once: a failure while the step runs must not be an unhandled rejection.
      const startFailure = this.records.started(tenantId, step.name).then(
        () => null,
        (error: unknown) => ({ error }),
      );
      const started = Date.now();
      let outcome;
      try {
        outcome = await step.run(tenant);
        await this.holdForFaultInjection(step.name);
        const failure = await startFailure;
        if (failure) throw failure.error;
      } catch (error) {
        await startFailure;
        const reason = error instanceof Error ? error.message : String(error);
        await this.records.failed(tenantId, step.name, reason, Date.now() - started);
        this.logger.warn({ tenantId, step: step.name, err: error }, 'provisioning step failed');
        throw new StepFailedError(step.name, reason, error);
      }
      const ms = Date.now() - started;
      if (outcome) {
        await this.records.skipped(tenantId, step.name, outcome.skipped, ms);
        this.logger.log({ tenantId, step: step.name, reason: outcome.skipped }, 'step skipped');
      } else {
        await this.records.succeeded(tenantId, step.name, ms);
        this.logger.log({ tenantId, step: step.name, ms }, 'step done');
      }
    }
  }

  /**
   * Test only (PROVISIONING_FAULT_HOLD, refused outside NODE_ENV=test): waits after the step's
   * work and before its record, the moment a crash is most likely to make a step run twice.
   */
  private async holdForFaultInjection(step: string): Promise<void> {
    const hold = this.config.integrations.faultHold;
    if (hold?.step !== step) return;
    this.logger.warn({ step, ms: hold.ms }, 'fault injection: holding before recording the step');
    await new Promise((resolve) => setTimeout(resolve, hold.ms));
  }

  private async markFailed(tenantId: string, reason: string): Promise<void> {
    await this.registry.query(
      `UPDATE platform.tenants SET status = 'failed', status_reason = $2, updated_at = now()
        WHERE id = $1 AND status = 'provisioning'`,
      [tenantId, reason.slice(0, 2000)],
    );
    await this.notifier.tenantChanged(tenantId, []);
  }
}

/** Carries the step's name, so the tenant's failure reason says where onboarding stopped. */
class StepFailedError extends Error {
  constructor(
    readonly step: string,
    reason: string,
    override readonly cause: unknown,
  ) {
    super(`${step}: ${reason}`);
    this.name = 'StepFailedError';
  }
}

function failureReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
