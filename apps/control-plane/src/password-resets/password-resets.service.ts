import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { TenantTransactionRunner } from '@platform/database';
import { runInTenant } from '@platform/tenancy';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { OutboxRepository } from '../outbox/outbox.repository';
import { hashInviteToken, newInviteToken } from '../tenants/tenant-invites.service';
import { TenantRegistry } from '../tenants/tenant-registry.service';
import { composePasswordResetMail } from './password-reset-mail.composer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Mailed when mail is on (the link then exists only in the outbox, until sent); returned to the
 * operator when mail is off, as a new user's invite link is, so a laptop can still reset.
 */
export type IssuedPasswordReset =
  | { userId: string; expiresAt: Date; delivery: 'mail'; outboxId: string }
  | { userId: string; expiresAt: Date; delivery: 'link'; url: string };

/**
 * Ops starts a password reset for a tenant user: a one-time, expiring token stored (hashed) in
 * the tenant's schema, replacing the user's unused ones, and a link to the data plane's
 * password form, which spends it (POST /api/auth/reset-password).
 */
@Injectable()
export class PasswordResets {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly database: TenantTransactionRunner,
    private readonly outbox: OutboxRepository,
    private readonly audit: AuditLog,
    @InjectDataSource() private readonly registryDb: DataSource,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async issue(idOrSlug: string, userId: string, actor: string): Promise<IssuedPasswordReset> {
    const tenant = await this.registry.find(idOrSlug);
    if (tenant.status !== 'active' && tenant.status !== 'suspended') {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.TenantNotActive,
        `Passwords can be reset once the tenant is active (it is ${tenant.status})`,
      );
    }
    const notFound = new ControlPlaneException(
      ControlPlaneErrorCode.UserNotFound,
      `The tenant has no user with id "${userId.slice(0, 64)}"`,
    );
    if (!UUID.test(userId)) throw notFound;
    const token = newInviteToken();
    const expiresAt = new Date(Date.now() + this.config.passwordResetTtlMinutes * 60_000);
    const email = await runInTenant(tenant, () =>
      this.database.run(async (tx) => {
        const [user] = await tx.query<{ email: string }>(
          'SELECT email FROM users WHERE id = $1 FOR UPDATE',
          [userId],
        );
        if (!user) return null;
        // Only the newest link works: an older one may sit in a mailbox someone else reads.
        await tx.query('DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL', [
          userId,
        ]);
        await tx.query(
          'INSERT INTO password_resets (user_id, token_hash, expires_at) VALUES ($1, $2, $3)',
          [userId, hashInviteToken(token), expiresAt],
        );
        return user.email;
      }),
    );
    if (!email) throw notFound;
    const url = `${this.config.dataPlanePublicUrl.replace('{slug}', tenant.slug)}/welcome?purpose=reset&token=${token}`;
    const mailOn = this.config.integrations.mail.provider !== 'none';
    const outboxId = mailOn
      ? await this.outbox.enqueue({
          tenantId: tenant.id,
          kind: 'password-reset',
          dedupeKey: `password-reset:${tenant.id}:${randomUUID()}`,
          recipient: email,
          ...composePasswordResetMail({ tenantName: tenant.name, resetUrl: url, expiresAt }),
        })
      : null;
    const delivery = outboxId ? 'mail' : 'link';
    await this.audit.record(this.registryDb.manager, {
      actor,
      action: 'tenant.user.password-reset',
      tenantId: tenant.id,
      // The user's id, not the e-mail, and never the link.
      details: { userId, delivery, ...(outboxId && { outboxId }) },
      before: null,
      after: { userId, expiresAt: expiresAt.toISOString() },
    });
    return outboxId
      ? { userId, expiresAt, delivery: 'mail', outboxId }
      : { userId, expiresAt, delivery: 'link', url };
  }
}
