import type { LimitName } from './plan-limits';

/** The plan limits that cap what a tenant stores (the others are rates). */
export const QUOTA_NAMES = [
  'maxUsers',
  'maxProjects',
  'maxStorageBytes',
] as const satisfies readonly LimitName[];
export type QuotaName = (typeof QUOTA_NAMES)[number];

const UNITS: Record<QuotaName, string> = {
  maxUsers: 'users',
  maxProjects: 'projects',
  maxStorageBytes: 'bytes of files',
};

/** A quota's limit and what the tenant uses of it right now. */
export interface QuotaUsage {
  readonly limit: number;
  readonly used: number;
}

/**
 * A write refused because it would take the tenant past one of its plan's quotas. Thrown by the
 * services of both apps (the same check runs in a request, a job or the CLI); each app's filter
 * answers it with `403 quota_exceeded` and the fields below, so a client can tell which quota
 * is full without parsing the sentence.
 */
export class QuotaExceededError extends Error {
  readonly code = 'quota_exceeded';

  constructor(
    readonly quota: QuotaName,
    readonly limit: number,
    readonly used: number,
    /** How much the refused write would have added (1 for a user or project, bytes for a file). */
    readonly requested = 1,
  ) {
    super(
      requested === 1 && quota !== 'maxStorageBytes'
        ? `${quota}: this tenant has ${used} of ${limit} ${UNITS[quota]} allowed by its plan`
        : `${quota}: ${requested} more would make ${used + requested} of ${limit} ${UNITS[quota]} allowed by its plan (${used} used)`,
    );
    this.name = 'QuotaExceededError';
  }

  /** The response body both apps send, in the shared `{error, message}` shape plus the numbers. */
  body(): { error: 'quota_exceeded'; message: string; quota: QuotaName } & QuotaUsage {
    return {
      error: this.code,
      message: this.message,
      quota: this.quota,
      limit: this.limit,
      used: this.used,
    };
  }
}
