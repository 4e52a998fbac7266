import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { TenantTransactionRunner, type TenantTransaction } from '@platform/database';
import { runInTenant, type TenantRef } from '@platform/tenancy';

export interface IssuedInvite {
  readonly userId: string;
  /** The one-time link; the tenant schema keeps only its hash. */
  readonly url: string;
  readonly expiresAt: Date;
}

/**
 * One-time links with which a tenant user sets a password on the data plane. A new invite
 * replaces the user's unused ones, so only the newest link mailed works.
 */
@Injectable()
export class TenantInvites {
  constructor(
    private readonly database: TenantTransactionRunner,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  /**
   * Creates the user (without a password) if missing, then a fresh invite for them. Not capped
   * by maxUsers: this is how onboarding makes the tenant's first admin, which must always fit.
   */
  async inviteUser(
    tenant: TenantRef & { slug: string },
    email: string,
    role: string,
  ): Promise<IssuedInvite> {
    const token = newInviteToken();
    const expiresAt = this.expiry();
    const userId = await runInTenant(tenant, () =>
      this.database.run(async (tx) => {
        // DO UPDATE (a no-op) rather than DO NOTHING, so the existing row is returned too.
        const [user] = await tx.query<{ id: string }>(
          `INSERT INTO users (email, password_hash, role) VALUES ($1, NULL, $2)
           ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
          [email.toLowerCase(), role],
        );
        await this.replaceInvites(tx, user.id, token, expiresAt);
        return user.id;
      }),
    );
    return { userId, url: this.linkFor(tenant.slug, token), expiresAt };
  }

  /** Inside a tenant transaction: drops the user's unused invites and stores a new one. */
  async replaceInvites(
    tx: TenantTransaction,
    userId: string,
    token: string,
    expiresAt: Date,
  ): Promise<void> {
    await tx.query('DELETE FROM user_invites WHERE user_id = $1 AND used_at IS NULL', [userId]);
    await tx.query(
      'INSERT INTO user_invites (user_id, token_hash, expires_at) VALUES ($1, $2, $3)',
      [userId, hashInviteToken(token), expiresAt],
    );
  }

  expiry(): Date {
    return new Date(Date.now() + this.config.inviteTtlHours * 3_600_000);
  }

  linkFor(slug: string, token: string): string {
    return `${this.config.dataPlanePublicUrl.replace('{slug}', slug)}/welcome?token=${token}`;
  }
}

export function newInviteToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Tokens are stored as SHA-256: 256 random bits need no slow hash, only not to be stored. */
export function hashInviteToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
