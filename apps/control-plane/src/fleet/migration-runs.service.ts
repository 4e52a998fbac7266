import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TenantSchemaMigrator } from '@platform/database';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import type { CreateMigrationRunDto } from './dto/create-migration-run.dto';
import { FleetQueue } from './fleet.queue';
import { MigrationRunRepository } from './migration-run.repository';
import type { MigrationRun, MigrationRunView, RunTenantStatus } from './migration-run.types';

const DEFAULT_CONCURRENCY = 4;
const FAILURES_SHOWN = 50;

/** Starts, inspects and steers fleet migration runs (API, CLI and console share it). */
@Injectable()
export class MigrationRunsService {
  constructor(
    private readonly runs: MigrationRunRepository,
    private readonly queue: FleetQueue,
    private readonly migrator: TenantSchemaMigrator,
    @InjectDataSource() private readonly registry: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async create(input: CreateMigrationRunDto, actor: string): Promise<MigrationRunView> {
    const targetVersion = input.targetVersion ?? this.migrator.latestVersion;
    if (targetVersion > this.migrator.latestVersion) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidMigrationRun,
        `targetVersion ${targetVersion} does not exist (latest is ${this.migrator.latestVersion})`,
      );
    }
    if (input.canaryCount && input.canaryTenants?.length) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidMigrationRun,
        'give canaryCount or canaryTenants, not both',
      );
    }
    const canaryTenantIds = await this.resolveTenants(input.canaryTenants ?? []);
    const id = randomUUID();
    await this.runs.create({
      id,
      targetVersion,
      concurrency: input.concurrency ?? DEFAULT_CONCURRENCY,
      maxFailures: input.maxFailures ?? null,
      requestedBy: actor,
      canaryTenantIds,
      canaryCount: input.canaryCount ?? 0,
    });
    const run = await this.find(id);
    await this.audit.record(this.registry.manager, {
      actor,
      action: 'migration-run.create',
      tenantId: null,
      details: { runId: id },
      before: null,
      after: {
        runId: id,
        status: run.status,
        targetVersion,
        concurrency: run.concurrency,
        maxFailures: run.maxFailures,
        canaryCount: input.canaryCount ?? 0,
        canaryTenantIds,
      },
    });
    await this.queue.start(run);
    return this.view(id);
  }

  async view(runId: string): Promise<MigrationRunView> {
    const run = await this.find(runId);
    const [counts, byPhase, failures] = await Promise.all([
      this.runs.totals(runId),
      this.runs.counts(runId),
      this.runs.outcomes(runId, 'failed', FAILURES_SHOWN, 0),
    ]);
    const canary = { total: 0, succeeded: 0, failed: 0 };
    for (const row of byPhase.filter((r) => r.phase === 'canary')) {
      canary.total += row.n;
      if (row.status === 'succeeded') canary.succeeded += row.n;
      if (row.status === 'failed') canary.failed += row.n;
    }
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    return { ...run, counts, total, canary, failures };
  }

  list(limit: number, offset: number): Promise<MigrationRun[]> {
    return this.runs.list(limit, offset);
  }

  async outcomes(runId: string, status: RunTenantStatus | null, limit: number, offset: number) {
    await this.find(runId);
    return this.runs.outcomes(runId, status, limit, offset);
  }

  async pause(runId: string): Promise<MigrationRunView> {
    await this.move(runId, ['running'], 'paused', 'pause');
    return this.view(runId);
  }

  /** Paused or failed runs go on; failed tenants are tried again, finished ones are not. */
  async resume(runId: string): Promise<MigrationRunView> {
    await this.move(runId, ['paused', 'failed'], 'running', 'resume');
    await this.runs.resetForResume(runId);
    await this.queue.start(await this.find(runId));
    return this.view(runId);
  }

  async cancel(runId: string): Promise<MigrationRunView> {
    await this.move(runId, ['running', 'paused', 'failed'], 'cancelled', 'cancel');
    await this.runs.skipPending(runId);
    return this.view(runId);
  }

  private async move(
    runId: string,
    from: MigrationRun['status'][],
    to: MigrationRun['status'],
    action: string,
  ): Promise<void> {
    const run = await this.find(runId);
    if (!(await this.runs.transition(runId, from, to))) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidTransition,
        `Cannot ${action} a run that is ${run.status} (allowed from: ${from.join(', ')})`,
      );
    }
    // The actor is the caller the request (or the CLI) is running as.
    await this.audit.record(this.registry.manager, {
      action: `migration-run.${action}`,
      tenantId: null,
      details: { runId },
      before: { status: run.status },
      after: { status: to },
    });
  }

  private async find(runId: string): Promise<MigrationRun> {
    const run = /^[0-9a-f-]{36}$/.test(runId) ? await this.runs.find(runId) : null;
    if (!run) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.MigrationRunNotFound,
        `No migration run has the id "${runId.slice(0, 64)}"`,
      );
    }
    return run;
  }

  private async resolveTenants(idsOrSlugs: readonly string[]): Promise<string[]> {
    if (idsOrSlugs.length === 0) return [];
    const rows = await this.registry.query<{ id: string; slug: string }[]>(
      `SELECT id, slug FROM platform.tenants
        WHERE status IN ('active', 'suspended')
          AND (slug = ANY($1::text[]) OR id::text = ANY($1::text[]))`,
      [idsOrSlugs],
    );
    const found = new Set(rows.flatMap((row) => [row.id, row.slug]));
    const missing = idsOrSlugs.filter((value) => !found.has(value));
    if (missing.length > 0) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidMigrationRun,
        `canaryTenants not found or not migratable: ${missing.slice(0, 10).join(', ')}`,
      );
    }
    return rows.map((row) => row.id);
  }
}
