/** Refusals of the control plane's services, by stable code; the filter maps them to HTTP. */
export enum ControlPlaneErrorCode {
  TenantNotFound = 'tenant_not_found',
  SlugTaken = 'slug_taken',
  HostnameTaken = 'hostname_taken',
  InvalidTransition = 'invalid_transition',
  IdempotencyKeyReused = 'idempotency_key_reused',
  TenantNotActive = 'tenant_not_active',
  UserExists = 'user_exists',
  InvalidCustomDomain = 'invalid_custom_domain',
  MigrationRunNotFound = 'migration_run_not_found',
  InvalidMigrationRun = 'invalid_migration_run',
  MailNotConfigured = 'mail_not_configured',
  DomainNotFound = 'domain_not_found',
  QuotaExceeded = 'quota_exceeded',
  InvalidCredentials = 'invalid_credentials',
  TooManyAttempts = 'too_many_attempts',
  WeakPassword = 'weak_password',
  CurrentPasswordWrong = 'current_password_wrong',
  OperatorNotFound = 'operator_not_found',
  OperatorEmailTaken = 'operator_email_taken',
  LastAdmin = 'last_admin',
  OperatorRequired = 'operator_required',
  ApiKeyNotFound = 'api_key_not_found',
  InvalidApiKey = 'invalid_api_key',
  UserNotFound = 'user_not_found',
}

/** Thrown by services, never HTTP exceptions: the same services run in jobs and the CLI. */
export class ControlPlaneException extends Error {
  constructor(
    readonly code: ControlPlaneErrorCode,
    message: string,
    /** When to try again, for refusals that lift by themselves (sent as `Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ControlPlaneException';
  }
}
