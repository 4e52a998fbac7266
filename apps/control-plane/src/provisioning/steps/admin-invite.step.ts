import { Injectable } from '@nestjs/common';
import { OutboxRepository } from '../../outbox/outbox.repository';
import { WelcomeMails } from '../../outbox/welcome-mails.service';
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
    private readonly welcomeMails: WelcomeMails,
  ) {}

  async run(tenant: TenantEntity): Promise<void> {
    const dedupeKey = welcomeMailKey(tenant.id);
    if (await this.outbox.findByDedupeKey(dedupeKey)) return;
    const invite = await this.invites.inviteUser(tenant, tenant.adminEmail, 'admin');
    await this.welcomeMails.enqueue(tenant, invite, dedupeKey);
  }
}
