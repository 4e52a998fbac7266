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
}

export class DataPlaneException extends Error {
  constructor(
    readonly code: DataPlaneErrorCode,
    message: string,
    /** Seconds a client should wait before trying again, when that is known. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DataPlaneException';
  }
}
