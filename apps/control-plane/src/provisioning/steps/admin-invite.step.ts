import { Inject, Injectable } from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { OutboxRepository } from '../../outbox/outbox.repository';
import { composeWelcomeMail } from '../../outbox/welcome-mail.composer';
import { TenantInvites } from '../../tenants/tenant-invites.service';
import type { TenantEntity } from '../../tenants/tenant.entity';
import type { ProvisioningStep } from '../provisioning-step';

export function welcomeMailKey(tenantId: string): string {
  return `welcome:${tenantId}:onboarding`;
}

/**
 * Creates the tenant's admin (no password yet) with a one-time invite, and puts the welcome
 * mail carrying that link in the outbox. Already done when the outbox holds the onboarding
 * welcome mail. A worker that dies between the invite and the outbox row leaves an invite no
 * mail points at; the re-run replaces it (a user's unused invites are dropped on each new one).
 */
@Injectable()
export class AdminInviteStep implements ProvisioningStep {
  readonly name = 'admin-invite';

  constructor(
    private readonly invites: TenantInvites,
    private readonly outbox: OutboxRepository,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async run(tenant: TenantEntity): Promise<void> {
    const dedupeKey = welcomeMailKey(tenant.id);
    if (await this.outbox.findByDedupeKey(dedupeKey)) return;
    const invite = await this.invites.inviteUser(tenant, tenant.adminEmail, 'admin');
    const mail = composeWelcomeMail({
      tenantName: tenant.name,
      hostname: `${tenant.slug}.${this.config.platformDomain}`,
      inviteUrl: invite.url,
      expiresAt: invite.expiresAt,
    });
    await this.outbox.enqueue({
      tenantId: tenant.id,
      kind: 'welcome',
      dedupeKey,
      recipient: tenant.adminEmail,
      ...mail,
    });
  }
}
