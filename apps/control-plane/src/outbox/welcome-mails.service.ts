import { Inject, Injectable } from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import type { IssuedInvite } from '../tenants/tenant-invites.service';
import { OutboxRepository } from './outbox.repository';
import { composeWelcomeMail } from './welcome-mail.composer';

export interface WelcomedTenant {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly adminEmail: string;
}

/** Puts a welcome mail carrying `invite`'s link in the outbox (onboarding's or a resend). */
@Injectable()
export class WelcomeMails {
  constructor(
    private readonly outbox: OutboxRepository,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async enqueue(tenant: WelcomedTenant, invite: IssuedInvite, dedupeKey: string): Promise<string> {
    const mail = composeWelcomeMail({
      tenantName: tenant.name,
      hostname: `${tenant.slug}.${this.config.platformDomain}`,
      inviteUrl: invite.url,
      expiresAt: invite.expiresAt,
    });
    return this.outbox.enqueue({
      tenantId: tenant.id,
      kind: 'welcome',
      dedupeKey,
      recipient: tenant.adminEmail,
      ...mail,
    });
  }
}
