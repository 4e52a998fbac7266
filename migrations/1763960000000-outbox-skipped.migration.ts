import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbox mail can end `skipped`: a mail for a tenant deleted before it went out is not sent,
 * and the row says so (`last_error` holds the reason) instead of staying `pending` forever.
 */
export class OutboxSkipped1763960000000 implements MigrationInterface {
  name = 'OutboxSkipped1763960000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE platform.outbox DROP CONSTRAINT outbox_status_check,
        ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'skipped'))`);
  }

  async down(runner: QueryRunner): Promise<void> {
    // Back to `pending` (keeping the reason), but never due: older code must not send it.
    await runner.query(`
      UPDATE platform.outbox SET status = 'pending', next_attempt_at = 'infinity'
       WHERE status = 'skipped'`);
    await runner.query(`
      ALTER TABLE platform.outbox DROP CONSTRAINT outbox_status_check,
        ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent'))`);
  }
}
