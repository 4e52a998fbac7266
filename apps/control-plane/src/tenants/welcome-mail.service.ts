import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { OutboxRepository, type OutboxRow } from '../outbox/outbox.repository';
import { WelcomeMails } from '../outbox/welcome-mails.service';
import { TenantInvites } from './tenant-invites.service';
import { TenantRegistry } from './tenant-registry.service';

export interface QueuedMail {
  readonly outboxId: string;
  readonly recipient: string;
  readonly status: 'pending';
}

export type MailView = Pick<
  OutboxRow,
  'kind' | 'recipient' | 'subject' | 'status' | 'attempts' | 'lastError' | 'createdAt' | 'sentAt'
> & { id: string };

/**
 * Welcome mail on purpose (ops: "resend the welcome mail"): a fresh invite, which replaces the
 * admin's unused ones, and a new outbox row the worker sends. Onboarding's own welcome mail
 * goes through the saga (admin-invite and welcome-mail steps).
 */
@Injectable()
export class WelcomeMailService {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly invites: TenantInvites,
    private readonly outbox: OutboxRepository,
    private readonly welcomeMails: WelcomeMails,
    private readonly audit: AuditLog,
    @InjectDataSource() private readonly registryDb: DataSource,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async resend(idOrSlug: string, actor: string): Promise<QueuedMail> {
    // An unknown tenant is a 404 whatever the mail settings.
    const tenant = await this.registry.find(idOrSlug);
    if (this.config.integrations.mail.provider === 'none') {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.MailNotConfigured,
        'Mail is off (MAIL_PROVIDER=none): there is nothing to send the welcome mail with',
      );
    }
    if (tenant.status !== 'active' && tenant.status !== 'suspended') {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.TenantNotActive,
        `The welcome mail can be resent once the tenant is active (it is ${tenant.status})`,
      );
    }
    const invite = await this.invites.inviteUser(tenant, tenant.adminEmail, 'admin');
    const outboxId = await this.welcomeMails.enqueue(
      tenant,
      invite,
      `welcome:${tenant.id}:resend:${randomUUID()}`,
    );
    await this.audit.record(this.registryDb.manager, {
      actor,
      action: 'tenant.welcome-mail.resend',
      tenantId: tenant.id,
      details: { outboxId, recipient: tenant.adminEmail },
      // What this creates: a mail waiting in the outbox (the new invite replaces older ones).
      before: null,
      after: { outboxId, status: 'pending' },
    });
    return { outboxId, recipient: tenant.adminEmail, status: 'pending' };
  }

  /** The tenant's mail, newest last, without bodies (they may hold live invite links). */
  async list(idOrSlug: string): Promise<MailView[]> {
    const tenant = await this.registry.find(idOrSlug);
    const rows = await this.outbox.listForTenant(tenant.id);
    return rows.map(
      ({ id, kind, recipient, subject, status, attempts, lastError, createdAt, sentAt }) => ({
        id,
        kind,
        recipient,
        subject,
        status,
        attempts,
        lastError,
        createdAt,
        sentAt,
      }),
    );
  }
}
