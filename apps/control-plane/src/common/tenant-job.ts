import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { isTenantId, runInTenant, type TenantRef, type TenantStatus } from '@platform/tenancy';
import { TenantEntity } from '../tenants/tenant.entity';

/**
 * Which tenants a kind of job may work for. An allow-list, not a deny-list: a status added to
 * the lifecycle later (or a row in a state nobody planned for) stops the job instead of letting
 * it touch a tenant that should be left alone. Each job states its own list beside its
 * processor, with the reason for it.
 */
export interface TenantJobPolicy {
  /** Named in the log line and in recorded reasons, e.g. `provision-tenant`. */
  readonly job: string;
  readonly runsFor: readonly TenantStatus[];
}

/** Either the work ran (and returned `value`), or it did nothing for `reason`. */
export type TenantJobOutcome<T> =
  | { readonly ran: true; readonly value: T }
  | {
      readonly ran: false;
      /** The tenant's status when the job looked; null when the tenant does not exist. */
      readonly status: TenantStatus | null;
      readonly reason: string;
    };

export interface TenantJobTenant extends TenantRef {
  readonly status: TenantStatus;
}

/** What a job needs to decide: the tenant's current row (tests pass a fake). */
export type TenantLoader<T extends TenantJobTenant> = (tenantId: string) => Promise<T | null>;

/** The line logged for a job that did nothing; also what callers record on their rows. */
export function refusalReason(
  policy: TenantJobPolicy,
  tenant: Pick<TenantJobTenant, 'status'> | null,
): string | null {
  if (!tenant) return 'the tenant does not exist';
  if (policy.runsFor.includes(tenant.status)) return null;
  return `the tenant is ${tenant.status}`;
}

/**
 * Runs one job's work for one tenant, the way every tenant job must: the tenant id comes from
 * the job's payload, its *current* status from the registry (a job may have waited in Redis
 * for minutes or hours, and the tenant may have been suspended or deleted since), and then
 * either
 * - the status is not one the job runs for: one log line naming the job, the tenant and the
 *   reason, and nothing else happens (callers record the outcome on their own rows), or
 * - the work runs inside `runInTenant`, so every log line it writes carries the tenant id (the
 *   pino mixin reads the context) and anything tenant-scoped it calls finds the right tenant.
 *
 * A payload without a valid tenant id throws: a job that cannot say whose it is fails closed
 * rather than running "somewhere".
 */
export async function runTenantJob<T, R extends TenantJobTenant>(
  deps: { readonly load: TenantLoader<R>; readonly logger: Pick<Logger, 'log'> },
  policy: TenantJobPolicy,
  tenantId: string | undefined,
  work: (tenant: R) => Promise<T>,
): Promise<TenantJobOutcome<T>> {
  if (typeof tenantId !== 'string' || !isTenantId(tenantId)) {
    throw new Error(`${policy.job}: the job carries no valid tenant id`);
  }
  const tenant = await deps.load(tenantId);
  const reason = refusalReason(policy, tenant);
  if (reason !== null || !tenant) {
    const why = reason ?? 'the tenant does not exist';
    deps.logger.log(
      { job: policy.job, tenantId, status: tenant?.status ?? null, reason: why },
      `${policy.job} for tenant ${tenantId} does nothing: ${why}`,
    );
    return { ran: false, status: tenant?.status ?? null, reason: why };
  }
  const { id, slug, schemaName, cluster } = tenant;
  const value = await runInTenant({ id, slug, schemaName, cluster }, () => work(tenant));
  return { ran: true, value };
}

/** `runTenantJob` against the platform registry, for the worker's processors and tasks. */
@Injectable()
export class TenantJobs {
  private readonly logger = new Logger(TenantJobs.name);

  constructor(@InjectDataSource() private readonly registry: DataSource) {}

  /**
   * `manager`: read the tenant inside that transaction, under a share lock, so the status
   * cannot change (a delete waits) until the caller commits what it did with it.
   */
  run<T>(
    policy: TenantJobPolicy,
    tenantId: string | undefined,
    work: (tenant: TenantEntity) => Promise<T>,
    options: { readonly manager?: EntityManager } = {},
  ): Promise<TenantJobOutcome<T>> {
    const load = options.manager
      ? (id: string) =>
          options.manager!.findOne(TenantEntity, {
            where: { id },
            lock: { mode: 'pessimistic_read' },
          })
      : (id: string) => this.registry.getRepository(TenantEntity).findOneBy({ id });
    return runTenantJob({ load, logger: this.logger }, policy, tenantId, work);
  }

  /**
   * For long jobs that look again between units of work (provisioning between steps): the
   * reason to stop now, or null to carry on. Logs like `run` when it says stop.
   */
  async stopReason(policy: TenantJobPolicy, tenantId: string): Promise<string | null> {
    const [row] = await this.registry.query<{ status: TenantStatus }[]>(
      'SELECT status FROM platform.tenants WHERE id = $1',
      [tenantId],
    );
    const reason = refusalReason(policy, row ?? null);
    if (reason !== null) {
      this.logger.log(
        { job: policy.job, tenantId, status: row?.status ?? null, reason },
        `${policy.job} for tenant ${tenantId} stops: ${reason}`,
      );
    }
    return reason;
  }
}
