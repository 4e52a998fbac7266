import type { FieldProblem } from '@platform/http';

/** Every refusal the data plane makes, by stable code; the filter maps each to a status. */
export enum DataPlaneErrorCode {
  UnknownTenant = 'unknown_tenant',
  TenantSuspended = 'tenant_suspended',
  TenantNotReady = 'tenant_not_ready',
  TenantUnavailable = 'tenant_unavailable',
  Unauthenticated = 'unauthenticated',
  InvalidCredentials = 'invalid_credentials',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  InvalidInvite = 'invalid_invite',
  StorageUnavailable = 'storage_unavailable',
  InvalidRefreshToken = 'invalid_refresh_token',
  InvalidResetToken = 'invalid_reset_token',
  RateLimited = 'rate_limited',
}

export class DataPlaneException extends Error {
  constructor(
    readonly code: DataPlaneErrorCode,
    message: string,
    /** Seconds a client should wait before trying again, when that is known. */
    readonly retryAfterSeconds?: number,
    /** Which limit or field the refusal is about, for clients that act on it. */
    readonly details?: readonly FieldProblem[],
  ) {
    super(message);
    this.name = 'DataPlaneException';
  }
}
