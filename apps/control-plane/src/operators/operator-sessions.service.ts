import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import type { OperatorRow } from './operator.view';
import { csrfTokenFor, newSessionToken, sha256Hex } from './operator-secrets';

const USER_AGENT_MAX = 512;
/** `last_seen_at` is written at most this often: not one UPDATE per request. */
const TOUCH_INTERVAL = '1 minute';

export interface StartedSession {
  readonly id: string;
  /** The raw token for the cookie; the registry has only its digest. */
  readonly token: string;
  readonly csrfToken: string;
  readonly expiresAt: Date;
}

export interface ActiveSession {
  readonly id: string;
  readonly expiresAt: Date;
  readonly csrfToken: string;
  readonly operator: OperatorRow;
}

interface SessionRow extends OperatorRow {
  session_id: string;
  session_expires_at: Date;
  stale: boolean;
}

/**
 * Sign-in sessions of operators (the console's cookie). A session ends at its absolute expiry
 * (OPERATOR_SESSION_TTL_HOURS after sign-in), after OPERATOR_SESSION_IDLE_MINUTES without a
 * request, at logout, when its operator is disabled or changes password elsewhere. Every check
 * uses the database's clock, so replicas with drifting clocks agree.
 */
@Injectable()
export class OperatorSessions {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async start(
    operatorId: string,
    client: { ip: string | null; userAgent: string | null },
  ): Promise<StartedSession> {
    const token = newSessionToken();
    const [row] = await this.dataSource.query<{ id: string; expires_at: Date }[]>(
      `INSERT INTO platform.operator_sessions (operator_id, token_hash, expires_at, ip, user_agent)
       VALUES ($1, $2, now() + make_interval(hours => $3), $4, $5)
       RETURNING id, expires_at`,
      [
        operatorId,
        sha256Hex(token),
        this.config.operators.sessionTtlHours,
        client.ip,
        client.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      ],
    );
    // Keeps the table from growing with every sign-in: an operator's sessions that ended more
    // than a day ago are of no use (the audit log keeps what happened).
    await this.dataSource.query(
      `DELETE FROM platform.operator_sessions
        WHERE operator_id = $1
          AND (revoked_at < now() - interval '1 day' OR expires_at < now() - interval '1 day')`,
      [operatorId],
    );
    return { id: row.id, token, csrfToken: csrfTokenFor(token), expiresAt: row.expires_at };
  }

  /** The live session this token belongs to, with its (enabled) operator; null otherwise. */
  async resolve(token: string): Promise<ActiveSession | null> {
    const [row] = await this.dataSource.query<SessionRow[]>(
      `SELECT s.id AS session_id, s.expires_at AS session_expires_at,
              s.last_seen_at < now() - interval '${TOUCH_INTERVAL}' AS stale,
              o.id, o.email, o.name, o.role, o.password_hash, o.disabled_at, o.created_at,
              o.last_login_at
         FROM platform.operator_sessions s
         JOIN platform.operators o ON o.id = s.operator_id
        WHERE s.token_hash = $1
          AND s.revoked_at IS NULL
          AND s.expires_at > now()
          AND s.last_seen_at > now() - make_interval(mins => $2)
          AND o.disabled_at IS NULL`,
      [sha256Hex(token), this.config.operators.sessionIdleMinutes],
    );
    if (!row) return null;
    const { session_id: id, session_expires_at: expiresAt, stale, ...operator } = row;
    if (stale) {
      await this.dataSource.query(
        'UPDATE platform.operator_sessions SET last_seen_at = now() WHERE id = $1',
        [id],
      );
    }
    return { id, expiresAt, csrfToken: csrfTokenFor(token), operator };
  }

  async end(sessionId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE platform.operator_sessions SET revoked_at = now()
        WHERE id = $1 AND revoked_at IS NULL`,
      [sessionId],
    );
  }
}
