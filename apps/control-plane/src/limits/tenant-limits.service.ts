import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  LIMIT_NAMES,
  PLAN_LIMITS,
  effectiveLimits,
  isPlan,
  type LimitOverrides,
  type PlanLimits,
} from '@platform/tenancy';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { TenantChangeNotifier } from '../tenants/tenant-change.notifier';
import { TenantDomainEntity } from '../tenants/tenant-domain.entity';
import { TenantRegistry } from '../tenants/tenant-registry.service';
import type { LimitOverridesPatch } from './limit-overrides.pipe';

/** A tenant on its way out or gone: changing its limits would only leave an audit entry. */
const GONE_STATUSES: readonly string[] = ['deleting', 'deleted'];

/** A tenant's limits as ops sees them: where each effective value comes from. */
export interface TenantLimitsView {
  tenantId: string;
  plan: string;
  /** The plan's values (an unknown plan gets `free`'s, as everywhere else). */
  defaults: PlanLimits;
  /** The tenant's own values, only those it has. */
  overrides: LimitOverrides;
  /** What the data plane and the quota checks enforce. */
  effective: PlanLimits;
}

/**
 * Per-tenant overrides of the plan's limits. They live in `platform.tenants.limit_overrides`,
 * read by the data plane with the tenant at host resolution; a change is announced on the
 * tenant-events channel so every replica drops the tenant from its host cache and applies the
 * new limits to the next request (the cache TTL bounds a lost announcement).
 */
@Injectable()
export class TenantLimits {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: TenantRegistry,
    private readonly audit: AuditLog,
    private readonly notifier: TenantChangeNotifier,
  ) {}

  async get(idOrSlug: string): Promise<TenantLimitsView> {
    const tenant = await this.registry.find(idOrSlug);
    const [row] = await this.dataSource.query<{ limit_overrides: unknown }[]>(
      'SELECT limit_overrides FROM platform.tenants WHERE id = $1',
      [tenant.id],
    );
    return view(tenant.id, tenant.plan, knownOverrides(row?.limit_overrides));
  }

  /** Sets the values the patch gives and removes those it gives as null; keeps the others. */
  async update(
    idOrSlug: string,
    patch: LimitOverridesPatch,
    actor: string,
  ): Promise<TenantLimitsView> {
    const tenant = await this.registry.find(idOrSlug);
    const { before, after } = await this.dataSource.transaction(async (manager) => {
      const [locked] = await manager.query<{ limit_overrides: unknown; status: string }[]>(
        'SELECT limit_overrides, status FROM platform.tenants WHERE id = $1 FOR UPDATE',
        [tenant.id],
      );
      // Read under the lock, so a delete that commits first is seen: no limits, no audit entry.
      if (locked && GONE_STATUSES.includes(locked.status)) {
        throw new ControlPlaneException(
          ControlPlaneErrorCode.TenantNotActive,
          `The tenant is ${locked.status}: its limits no longer apply`,
        );
      }
      const current = knownOverrides(locked?.limit_overrides);
      const next: LimitOverrides = { ...current };
      for (const name of LIMIT_NAMES) {
        const value = patch[name];
        if (value === null) delete next[name];
        else if (value !== undefined) next[name] = value;
      }
      await manager.query(
        `UPDATE platform.tenants SET limit_overrides = $2::jsonb, updated_at = now()
          WHERE id = $1`,
        [tenant.id, JSON.stringify(next)],
      );
      await this.audit.record(manager, {
        actor,
        action: 'tenant.limits',
        tenantId: tenant.id,
        details: { patch },
        before: { limitOverrides: current },
        after: { limitOverrides: next },
      });
      return { before: current, after: next };
    });
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      const domains = await this.dataSource
        .getRepository(TenantDomainEntity)
        .findBy({ tenantId: tenant.id });
      await this.notifier.tenantChanged(
        tenant.id,
        domains.map((domain) => domain.hostname),
      );
    }
    return view(tenant.id, tenant.plan, after);
  }
}

function view(tenantId: string, plan: string, overrides: LimitOverrides): TenantLimitsView {
  return {
    tenantId,
    plan,
    defaults: PLAN_LIMITS[isPlan(plan) ? plan : 'free'],
    overrides,
    effective: effectiveLimits(plan, overrides),
  };
}

/** The column as stored, reduced to the names and values the platform knows, in LIMIT_NAMES order. */
function knownOverrides(stored: unknown): LimitOverrides {
  const overrides: LimitOverrides = {};
  if (typeof stored !== 'object' || stored === null) return overrides;
  for (const name of LIMIT_NAMES) {
    const value = (stored as Record<string, unknown>)[name];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      overrides[name] = value;
    }
  }
  return overrides;
}
