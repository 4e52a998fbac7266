import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';

export interface OutboxMail {
  readonly tenantId: string | null;
  readonly kind: string;
  /** One row per purpose: enqueueing the same key again returns the first row. */
  readonly dedupeKey: string;
  readonly recipient: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface OutboxRow {
  readonly id: string;
  readonly tenantId: string | null;
  readonly kind: string;
  readonly recipient: string;
  readonly subject: string;
  readonly bodyText: string | null;
  readonly bodyHtml: string | null;
  readonly messageId: string;
  /** `skipped`: never sent, on purpose (its tenant was deleted); `lastError` says why. */
  readonly status: 'pending' | 'sent' | 'skipped';
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", kind, recipient, subject, body_text AS "bodyText",
  body_html AS "bodyHtml", message_id AS "messageId", status, attempts, last_error AS "lastError",
  created_at AS "createdAt", sent_at AS "sentAt"`;

/** The mail outbox in the registry: what must be sent, and whether it was. */
@Injectable()
export class OutboxRepository {
  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  /** Adds the mail unless its dedupe key is there already; returns the row's id either way. */
  async enqueue(mail: OutboxMail, manager: EntityManager = this.registry.manager): Promise<string> {
    const id = randomUUID();
    const [inserted] = await manager.query<{ id: string }[]>(
      `INSERT INTO platform.outbox
         (id, tenant_id, kind, dedupe_key, recipient, subject, body_text, body_html, message_id, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending')
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [
        id,
        mail.tenantId,
        mail.kind,
        mail.dedupeKey,
        mail.recipient,
        mail.subject,
        mail.text,
        mail.html,
        // Stable per row, so a receiver can drop the copy of a mail sent twice after a crash.
        `<${id}@${this.config.platformDomain}>`,
      ],
    );
    if (inserted) return inserted.id;
    const existing = await this.findByDedupeKey(mail.dedupeKey, manager);
    if (!existing) throw new Error(`outbox row ${mail.dedupeKey} vanished`);
    return existing.id;
  }

  async findByDedupeKey(
    dedupeKey: string,
    manager: EntityManager = this.registry.manager,
  ): Promise<OutboxRow | null> {
    const [row] = await manager.query<OutboxRow[]>(
      `SELECT ${COLUMNS} FROM platform.outbox WHERE dedupe_key = $1`,
      [dedupeKey],
    );
    return row ?? null;
  }

  /** Locks the row for the rest of `manager`'s transaction; `skipLocked` returns null if taken. */
  async lock(manager: EntityManager, id: string, skipLocked: boolean): Promise<OutboxRow | null> {
    const [row] = await manager.query<OutboxRow[]>(
      `SELECT ${COLUMNS} FROM platform.outbox WHERE id = $1 FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
      [id],
    );
    return row ?? null;
  }

  /** Sent: the bodies go (they hold a live invite link); subject and recipient stay for ops. */
  async markSent(manager: EntityManager, id: string): Promise<void> {
    await manager.query(
      `UPDATE platform.outbox
          SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL,
              body_text = NULL, body_html = NULL
        WHERE id = $1`,
      [id],
    );
  }

  /** Not to be sent, ever: the bodies go too (they hold a live invite link). */
  async markSkipped(manager: EntityManager, id: string, reason: string): Promise<void> {
    await manager.query(
      `UPDATE platform.outbox
          SET status = 'skipped', last_error = $2, body_text = NULL, body_html = NULL
        WHERE id = $1 AND status = 'pending'`,
      [id, reason.slice(0, 2000)],
    );
  }

  /** Not now, without counting an attempt: looked at again in `retryInMs`. */
  async postpone(manager: EntityManager, id: string, reason: string, retryInMs: number) {
    await manager.query(
      `UPDATE platform.outbox
          SET last_error = $2,
              next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
        WHERE id = $1 AND status = 'pending'`,
      [id, reason.slice(0, 2000), retryInMs],
    );
  }

  async markAttemptFailed(id: string, error: string, retryInMs: number): Promise<void> {
    await this.registry.query(
      `UPDATE platform.outbox
          SET attempts = attempts + 1, last_error = $2,
              next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
        WHERE id = $1 AND status = 'pending'`,
      [id, error.slice(0, 2000), retryInMs],
    );
  }

  /** Pending mails whose next attempt is due, oldest first. */
  async due(limit: number, maxAttempts: number): Promise<string[]> {
    const rows = await this.registry.query<{ id: string }[]>(
      `SELECT id FROM platform.outbox
        WHERE status = 'pending' AND next_attempt_at <= now() AND attempts < $2
        ORDER BY next_attempt_at LIMIT $1`,
      [limit, maxAttempts],
    );
    return rows.map((row) => row.id);
  }

  async listForTenant(tenantId: string): Promise<OutboxRow[]> {
    return this.registry.query<OutboxRow[]>(
      `SELECT ${COLUMNS} FROM platform.outbox WHERE tenant_id = $1 ORDER BY created_at`,
      [tenantId],
    );
  }
}
