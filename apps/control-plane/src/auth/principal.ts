import type { Request } from 'express';
import type { OperatorRole } from '../operators/operator-role';

/** How the caller proved who it is. */
export type PrincipalKind = 'session' | 'api-key' | 'bootstrap';

/** The actor the bootstrap token is recorded as (the name predates operator accounts). */
export const BOOTSTRAP_ACTOR = 'bootstrap-admin';

/** Who is calling, as the auth guard resolved it: one per authenticated request. */
export interface Principal {
  readonly kind: PrincipalKind;
  /** For the audit log: `operator:<email>`, `api-key:<prefix>` or `bootstrap-admin`. */
  readonly actor: string;
  /** The operator's current role (an API key acts with its owner's); `admin` for bootstrap. */
  readonly role: OperatorRole;
  /** The account behind the request; null for the bootstrap token, which is no account. */
  readonly operatorId: string | null;
  readonly email: string | null;
  readonly sessionId: string | null;
  readonly apiKeyId: string | null;
  /** The session's CSRF token (cookie sessions only). */
  readonly csrfToken: string | null;
  readonly sessionExpiresAt: Date | null;
}

export interface OperatorRequest extends Request {
  principal?: Principal;
  /**
   * The operator's id (`bootstrap-admin` for the bootstrap token), kept in the shape readers
   * had before operator accounts existed.
   */
  operator?: { id: string };
}
