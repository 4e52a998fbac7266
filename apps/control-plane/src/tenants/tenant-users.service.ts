import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hash } from 'argon2';
import { DataSource } from 'typeorm';
import type { QueryResultRow } from 'pg';
import { TenantTransactionRunner, checkTenantQuota } from '@platform/database';
import {
  effectiveLimits,
  runInTenant,
  type LimitOverrides,
  type PlanLimits,
} from '@platform/tenancy';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import type { CreateTenantUserDto } from './dto/create-tenant-user.dto';
import { TenantInvites, newInviteToken } from './tenant-invites.service';
import { TenantRegistry } from './tenant-registry.service';

/** A tenant user as ops sees it: never a hash, only whether a password is set. */
export interface TenantUserView {
  id: string;
  email: string;
  role: string;
  passwordSet: boolean;
  /** The newest unused invite's expiry, when one is outstanding. */
  inviteExpiresAt: Date | null;
  createdAt: Date;
}

const USERS_LISTED = 500;

/** What counts against maxUsers: every user, invited or active (as the data plane's usage says). */
const USERS_USED_SQL = 'SELECT count(*)::text AS used FROM users';

export interface CreatedTenantUser {
  id: string;
  email: string;
  role: string;
  /** Present when no password was given: a one-time link to set one. Shown once. */
  invite?: { url: string; expiresAt: Date };
}

/**
 * Ops creates users inside a tenant's schema; invites are stored as hashes, never as tokens.
 * Creation is capped by the tenant's maxUsers quota (403 quota_exceeded). Onboarding's admin
 * invite (TenantInvites.inviteUser) is not checked: without its first admin a tenant could never
 * be administered, whatever its quota says (every plan allows at least one user anyway).
 */
@Injectable()
export class TenantUsersService {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly database: TenantTransactionRunner,
    private readonly audit: AuditLog,
    private readonly invites: TenantInvites,
    @InjectDataSource() private readonly registryDb: DataSource,
  ) {}

  async create(
    idOrSlug: string,
    input: CreateTenantUserDto,
    actor: string,
  ): Promise<CreatedTenantUser> {
    const tenant = await this.registry.find(idOrSlug);
    if (tenant.status !== 'active' && tenant.status !== 'suspended') {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.TenantNotActive,
        `Users can be added once the tenant is active (it is ${tenant.status})`,
      );
    }
    const email = input.email.toLowerCase();
    const passwordHash = input.password ? await hash(input.password) : null;
    const inviteToken = input.password ? null : newInviteToken();
    const expiresAt = this.invites.expiry();
    const { maxUsers } = await this.limitsOf(tenant.id, tenant.plan);

    const userId = await runInTenant(tenant, () =>
      this.database.run(async (tx) => {
        await checkTenantQuota(tx, 'maxUsers', maxUsers, USERS_USED_SQL);
        const [user] = await tx.query<{ id: string }>(
          `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
           ON CONFLICT (email) DO NOTHING RETURNING id`,
          [email, passwordHash, input.role],
        );
        if (!user) {
          throw new ControlPlaneException(
            ControlPlaneErrorCode.UserExists,
            `A user with e-mail ${email} already exists in this tenant`,
          );
        }
        if (inviteToken) await this.invites.replaceInvites(tx, user.id, inviteToken, expiresAt);
        return user.id;
      }),
    );
    await this.audit.record(this.registryDb.manager, {
      actor,
      action: 'tenant.user.create',
      tenantId: tenant.id,
      details: { userId, role: input.role, invited: inviteToken !== null },
      // The user's id, not the e-mail: this log is kept forever and cannot be edited.
      before: null,
      after: { userId, role: input.role, invited: inviteToken !== null },
    });
    return {
      id: userId,
      email,
      role: input.role,
      ...(inviteToken && {
        invite: { url: this.invites.linkFor(tenant.slug, inviteToken), expiresAt },
      }),
    };
  }

  /** The plan's limits with the tenant's overrides (set through `PUT .../limits`). */
  private async limitsOf(tenantId: string, plan: string): Promise<PlanLimits> {
    const [row] = await this.registryDb.query<{ limit_overrides: LimitOverrides | null }[]>(
      'SELECT limit_overrides FROM platform.tenants WHERE id = $1',
      [tenantId],
    );
    return effectiveLimits(plan, row?.limit_overrides ?? {});
  }

  /** The tenant's users (at most 500, oldest first); none before the schema is ready. */
  async list(idOrSlug: string): Promise<TenantUserView[]> {
    const tenant = await this.registry.find(idOrSlug);
    if (tenant.status !== 'active' && tenant.status !== 'suspended') return [];
    return runInTenant(tenant, () =>
      this.database.query<TenantUserView & QueryResultRow>(
        `SELECT u.id, u.email, u.role, u.password_hash IS NOT NULL AS "passwordSet",
                (SELECT max(i.expires_at) FROM user_invites i
                  WHERE i.user_id = u.id AND i.used_at IS NULL AND i.expires_at > now())
                  AS "inviteExpiresAt",
                u.created_at AS "createdAt"
           FROM users u ORDER BY u.created_at, u.id LIMIT $1`,
        [USERS_LISTED],
        { readOnly: true },
      ),
    );
  }
}
