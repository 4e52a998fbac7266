import type { TenantRef } from '@platform/tenancy';

export const RUN_STATUSES = ['running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RUN_TENANT_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'skipped',
] as const;
export type RunTenantStatus = (typeof RUN_TENANT_STATUSES)[number];

export type RunPhase = 'canary' | 'main';

export interface MigrationRun {
  id: string;
  targetVersion: number;
  concurrency: number;
  maxFailures: number | null;
  status: RunStatus;
  statusReason: string | null;
  generation: number;
  requestedBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export type RunCounts = Record<RunTenantStatus, number>;

export interface MigrationRunView extends MigrationRun {
  counts: RunCounts;
  total: number;
  canary: { total: number; succeeded: number; failed: number };
  failures: RunTenantOutcomeView[];
}

export interface RunTenantOutcomeView {
  tenantId: string;
  slug: string;
  phase: RunPhase;
  status: RunTenantStatus;
  attempts: number;
  fromVersion: number | null;
  toVersion: number | null;
  durationMs: number | null;
  error: string | null;
  finishedAt: Date | null;
}

/** A tenant a claimer took from a run, with what the migrator needs to reach its schema. */
export interface ClaimedTenant extends TenantRef {
  readonly phase: RunPhase;
}

export interface TenantOutcome {
  readonly tenantId: string;
  readonly status: 'succeeded' | 'failed';
  readonly fromVersion: number | null;
  readonly toVersion: number | null;
  readonly durationMs: number;
  readonly error: string | null;
}
