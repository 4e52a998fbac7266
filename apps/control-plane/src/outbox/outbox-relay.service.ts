import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { MAIL_TRANSPORT, type MailTransport } from '@platform/mail';
import { TenantJobs, type TenantJobPolicy } from '../common/tenant-job';
import { OutboxRepository, type OutboxRow } from './outbox.repository';

/** `skipped`: its tenant was deleted, never sent; `held`: its tenant is suspended, later. */
export type DeliveryOutcome = 'sent' | 'already-sent' | 'busy' | 'skipped' | 'held';

/**
 * A tenant's mail goes out while the tenant is onboarding, failed (ops may resend while they
 * retry) or active. A deleted tenant's mail is never sent (it carries a link into a tenant that
 * is gone): the row ends `skipped` with the reason. A suspended tenant's mail is held, not
 * dropped: ops may resend the welcome mail of a suspended tenant on purpose, so it waits,
 * looked at again every HELD_RECHECK_MS, and goes out once the tenant is resumed.
 */
export const SEND_MAIL_POLICY: TenantJobPolicy = {
  job: 'send-mail',
  runsFor: ['provisioning', 'failed', 'active'],
};
const HELD_RECHECK_MS = 60_000;

/** A mail that failed this often stays pending for ops to see (and resend) instead. */
const MAX_ATTEMPTS = 10;
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 15 * 60_000;

/**
 * Sends outbox mail. The row stays locked (SELECT ... FOR UPDATE) while the SMTP server takes
 * the mail, and is marked sent in that same transaction: a worker that dies before the server
 * accepted rolls back and the mail is sent again later; two workers never send one row at once.
 * The one window left is between the server's "250 OK" and our COMMIT (milliseconds): a crash
 * exactly there sends the mail again, with the same Message-ID, so receivers can drop the copy.
 * No SMTP client can close that window; this makes it as small as it gets.
 */
@Injectable()
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly jobs: TenantJobs,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport | null,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  get enabled(): boolean {
    return this.transport !== null;
  }

  /**
   * Sends one row now. `wait` blocks on a row another worker is sending (and then finds it
   * sent); without it such a row is left to that worker. Throws the transport's error.
   */
  async deliver(id: string, options: { wait: boolean }): Promise<DeliveryOutcome> {
    const transport = this.transport;
    if (!transport) throw new Error('Mail is not configured (MAIL_PROVIDER=none)');
    const runner = this.registry.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const row = await this.outbox.lock(runner.manager, id, !options.wait);
      if (!row) {
        await runner.rollbackTransaction();
        return 'busy';
      }
      if (row.status !== 'pending') {
        await runner.rollbackTransaction();
        return row.status === 'sent' ? 'already-sent' : 'skipped';
      }
      try {
        const send = () => this.send(transport, row);
        if (row.tenantId !== null) {
          // The tenant's row is read under a share lock: a delete waits for this mail's commit,
          // and a mail is never sent after its tenant's delete committed.
          const outcome = await this.jobs.run(SEND_MAIL_POLICY, row.tenantId, send, {
            manager: runner.manager,
          });
          if (!outcome.ran) {
            const held = outcome.status === 'suspended';
            if (held) {
              const reason = `held: ${outcome.reason}; sent once it is resumed`;
              await this.outbox.postpone(runner.manager, id, reason, HELD_RECHECK_MS);
            } else {
              await this.outbox.markSkipped(runner.manager, id, `not sent: ${outcome.reason}`);
            }
            await runner.commitTransaction();
            return held ? 'held' : 'skipped';
          }
        } else {
          await send();
        }
      } catch (error) {
        await runner.rollbackTransaction();
        const reason = error instanceof Error ? error.message : String(error);
        await this.outbox.markAttemptFailed(id, reason, retryDelay(row.attempts));
        throw error;
      }
      await this.outbox.markSent(runner.manager, id);
      await runner.commitTransaction();
      this.logger.log({ outboxId: id, tenantId: row.tenantId, kind: row.kind }, 'mail sent');
      return 'sent';
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }

  private async send(transport: MailTransport, row: OutboxRow): Promise<void> {
    await transport.send({
      from: this.config.integrations.mail.from,
      to: row.recipient,
      subject: row.subject,
      text: row.bodyText ?? '',
      ...(row.bodyHtml && { html: row.bodyHtml }),
      messageId: row.messageId,
    });
  }

  /** Sends what is due; rows other workers hold are skipped. Returns how many were sent. */
  async deliverDue(limit = 20): Promise<number> {
    if (!this.transport) return 0;
    let sent = 0;
    for (const id of await this.outbox.due(limit, MAX_ATTEMPTS)) {
      try {
        if ((await this.deliver(id, { wait: false })) === 'sent') sent += 1;
      } catch (error) {
        this.logger.warn({ outboxId: id, err: error }, 'outbox delivery failed; will retry');
      }
    }
    return sent;
  }
}

function retryDelay(attemptsSoFar: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** attemptsSoFar, RETRY_MAX_MS);
}
