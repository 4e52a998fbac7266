import { Injectable } from '@nestjs/common';
import { OutboxRelay } from '../../outbox/outbox-relay.service';
import { OutboxRepository } from '../../outbox/outbox.repository';
import type { TenantEntity } from '../../tenants/tenant.entity';
import { skipped, type ProvisioningStep } from '../provisioning-step';
import { welcomeMailKey } from './admin-invite.step';

/**
 * Sends the welcome mail the previous step put in the outbox, through the outbox relay (which
 * sends a row once, see OutboxRelay). Already done when the row is sent. Waits for a row another
 * worker is sending, so the tenant is activated only after its admin was mailed.
 */
@Injectable()
export class WelcomeMailStep implements ProvisioningStep {
  readonly name = 'welcome-mail';

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
  ) {}

  async run(tenant: TenantEntity) {
    if (!this.relay.enabled) return skipped('mail is off (MAIL_PROVIDER=none)');
    const row = await this.outbox.findByDedupeKey(welcomeMailKey(tenant.id));
    if (!row) throw new Error('the welcome mail is missing from the outbox');
    if (row.status === 'sent') return;
    if (row.status === 'skipped') return skipped(row.lastError ?? 'the welcome mail was skipped');
    const outcome = await this.relay.deliver(row.id, { wait: true });
    // The relay refused for the tenant's sake (deleted while onboarding): the row says why.
    if (outcome === 'skipped' || outcome === 'held') {
      return skipped(`the welcome mail was not sent (${outcome}): see the tenant's mail`);
    }
  }
}
