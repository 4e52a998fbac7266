import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryWithRelaxedCommit } from '@platform/database';

const MAX_ERROR_LENGTH = 2000;

/**
 * The provisioning record: status, attempts, timings and last error of each step.
 *
 * A step's start and end are written with a relaxed commit (see queryWithRelaxedCommit): they
 * are most of a cold schema's commits, and losing one to a crash of the database server only
 * makes an idempotent step run again. What a step does itself commits durably.
 */
@Injectable()
export class ProvisioningStepRepository {
  constructor(@InjectDataSource() private readonly registry: DataSource) {}

  /**
   * The steps recorded as done (succeeded or skipped), in one read. Done is final: no record
   * goes back from done, so a runner holding the tenant's lock can read this once per run.
   */
  async doneSteps(tenantId: string): Promise<ReadonlySet<string>> {
    const rows = await this.registry.query<{ step: string }[]>(
      `SELECT step FROM platform.provisioning_steps
        WHERE tenant_id = $1 AND status IN ('succeeded', 'skipped')`,
      [tenantId],
    );
    return new Set(rows.map((row) => row.step));
  }

  /**
   * Never over a done record: the runner writes the start while the step works, and a step
   * that records itself with its work (activate) may be done before this lands.
   */
  async started(tenantId: string, step: string): Promise<void> {
    await queryWithRelaxedCommit(
      this.registry,
      `UPDATE platform.provisioning_steps
          SET status = 'running', attempts = attempts + 1, started_at = now(), finished_at = NULL
        WHERE tenant_id = $1 AND step = $2 AND status NOT IN ('succeeded', 'skipped')`,
      [tenantId, step],
    );
  }

  /** Leaves a record the step wrote with its work (activate) as that step wrote it. */
  async succeeded(tenantId: string, step: string, durationMs: number): Promise<void> {
    await queryWithRelaxedCommit(
      this.registry,
      `UPDATE platform.provisioning_steps
          SET status = 'succeeded', last_error = NULL, finished_at = now(), duration_ms = $3
        WHERE tenant_id = $1 AND step = $2 AND status <> 'succeeded'`,
      [tenantId, step, durationMs],
    );
  }

  /** The step's outside system is off; `reason` names the setting that turns it on. */
  async skipped(tenantId: string, step: string, reason: string, durationMs: number): Promise<void> {
    await queryWithRelaxedCommit(
      this.registry,
      `UPDATE platform.provisioning_steps
          SET status = 'skipped', last_error = $3, finished_at = now(), duration_ms = $4
        WHERE tenant_id = $1 AND step = $2`,
      [tenantId, step, reason, durationMs],
    );
  }

  /**
   * Onboarding stopped for good (the tenant was deleted): every step not done is `skipped`
   * with the reason, so the record says why it ends there instead of showing steps pending
   * forever. Done steps keep their record.
   */
  async abandon(tenantId: string, reason: string): Promise<void> {
    await this.registry.query(
      `UPDATE platform.provisioning_steps
          SET status = 'skipped', last_error = $2, finished_at = now()
        WHERE tenant_id = $1 AND status IN ('pending', 'running', 'failed')`,
      [tenantId, reason.slice(0, MAX_ERROR_LENGTH)],
    );
  }

  async failed(tenantId: string, step: string, error: string, durationMs: number): Promise<void> {
    await queryWithRelaxedCommit(
      this.registry,
      `UPDATE platform.provisioning_steps
          SET status = 'failed', last_error = $3, finished_at = now(), duration_ms = $4
        WHERE tenant_id = $1 AND step = $2`,
      [tenantId, step, error.slice(0, MAX_ERROR_LENGTH), durationMs],
    );
  }
}
