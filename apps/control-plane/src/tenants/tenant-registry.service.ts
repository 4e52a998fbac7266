import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { TenantSchemaMigrator } from '@platform/database';
import { isTenantId, schemaNameForTenant, type TenantStatus } from '@platform/tenancy';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { PROVISIONING_STEP_NAMES } from '../provisioning/provisioning.pipeline';
import { ProvisioningQueue } from '../provisioning/provisioning.queue';
import { ProvisioningStepEntity } from '../provisioning/provisioning-step.entity';
import { WarmPoolRepository } from '../provisioning/warm-pool.repository';
import { DeletedTenantRoles } from '../tenant-access/deleted-tenant-roles.service';
import { TenantRoleReserveRepository } from '../tenant-access/tenant-role-reserve.repository';
import { newCustomDomain } from '../domains/new-custom-domain';
import { DomainsQueue } from '../domains/domains.queue';
import type { CreateTenantDto } from './dto/create-tenant.dto';
import type { ListTenantsQuery } from './dto/list-tenants.query';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { TenantChangeNotifier } from './tenant-change.notifier';
import { TenantDomainEntity } from './tenant-domain.entity';
import { TenantEntity } from './tenant.entity';
import { customHostnameProblem } from './tenant-hostnames';
import { toTenantView, type TenantView } from './tenant.view';

const UNIQUE_VIOLATION = '23505';

/** Which statuses each operator action may start from, and where it leads. */
const TRANSITIONS = {
  suspend: { from: ['active'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'active' },
  delete: { from: ['provisioning', 'failed', 'active', 'suspended'], to: 'deleted' },
  retry: { from: ['failed'], to: 'provisioning' },
} as const satisfies Record<string, { from: readonly TenantStatus[]; to: TenantStatus }>;

export type TenantAction = keyof typeof TRANSITIONS;

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** The tenant registry: creation, lookup and lifecycle transitions. */
@Injectable()
export class TenantRegistry {
  private readonly logger = new Logger(TenantRegistry.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
    private readonly provisioning: ProvisioningQueue,
    private readonly notifier: TenantChangeNotifier,
    private readonly audit: AuditLog,
    private readonly warmPool: WarmPoolRepository,
    private readonly roleReserve: TenantRoleReserveRepository,
    private readonly deletedRoles: DeletedTenantRoles,
    private readonly migrator: TenantSchemaMigrator,
    private readonly domainsQueue: DomainsQueue,
  ) {}

  /**
   * Records the tenant, its platform subdomain and its pending provisioning steps in one
   * transaction, then enqueues provisioning. With an idempotency key, a repeat of the same
   * request returns the first result; the same key with another body is refused.
   */
  async create(
    input: CreateTenantDto,
    actor: string,
    idempotencyKey?: string,
  ): Promise<TenantView> {
    const custom = input.customDomain ? this.checkCustomDomain(input.customDomain) : null;
    const requestHash = hashRequest(input);
    const tenant = await this.dataSource.transaction(async (manager) => {
      if (idempotencyKey) {
        const earlier = await this.replay(manager, idempotencyKey, requestHash);
        if (earlier) return earlier;
      }
      const tenant = await this.insertTenant(manager, input, custom);
      if (idempotencyKey) {
        await manager.insert(IdempotencyKeyEntity, {
          key: idempotencyKey,
          requestHash,
          tenantId: tenant.id,
        });
      }
      await this.audit.record(manager, {
        actor,
        action: 'tenant.create',
        tenantId: tenant.id,
        details: { slug: tenant.slug, plan: tenant.plan },
        before: null,
        after: {
          slug: tenant.slug,
          name: tenant.name,
          plan: tenant.plan,
          status: tenant.status,
          ...(custom && { customDomain: custom }),
        },
      });
      return tenant;
    });
    // Also re-enqueued on replay: harmless (same job id), and it heals a crash between the
    // commit above and this line.
    if (tenant.status === 'provisioning') await this.provisioning.enqueue(tenant.id);
    if (custom) await this.verifyCustomDomains(tenant.id);
    return this.get(tenant.id);
  }

  async list(query: ListTenantsQuery): Promise<Page<TenantView>> {
    const builder = this.dataSource
      .getRepository(TenantEntity)
      .createQueryBuilder('tenant')
      .orderBy('tenant.created_at', 'DESC')
      .addOrderBy('tenant.id')
      .limit(query.limit)
      .offset(query.offset);
    if (query.status) builder.andWhere('tenant.status = :status', { status: query.status });
    else builder.andWhere(`tenant.status NOT IN ('warming', 'pooled')`);
    if (query.search) {
      const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      builder.andWhere(
        '(tenant.slug ILIKE :pattern OR tenant.name ILIKE :pattern OR tenant.admin_email ILIKE :pattern)',
        { pattern },
      );
    }
    const [tenants, total] = await builder.getManyAndCount();
    return {
      items: tenants.map((tenant) => toTenantView(tenant)),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /** By id or slug, with domains and provisioning steps. */
  async get(idOrSlug: string): Promise<TenantView> {
    const tenant = await this.find(idOrSlug);
    const [domains, steps] = await Promise.all([
      this.dataSource.getRepository(TenantDomainEntity).findBy({ tenantId: tenant.id }),
      this.dataSource.getRepository(ProvisioningStepEntity).findBy({ tenantId: tenant.id }),
    ]);
    return toTenantView(tenant, domains, steps);
  }

  async find(idOrSlug: string): Promise<TenantEntity> {
    const repository = this.dataSource.getRepository(TenantEntity);
    // Both are case-insensitive: slugs are stored lower case, and a UUID names the same tenant
    // in either case (RFC 9562), though PostgreSQL and our schema names write it lower case.
    const key = idOrSlug.toLowerCase();
    const tenant = isTenantId(key)
      ? await repository.findOneBy({ id: key })
      : await repository.findOneBy({ slug: key });
    // Warm-pool rows are not tenants yet: nobody can look one up, suspend or delete it.
    if (!tenant || tenant.status === 'warming' || tenant.status === 'pooled') {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.TenantNotFound,
        `No tenant has the id or slug "${idOrSlug.slice(0, 64)}"`,
      );
    }
    return tenant;
  }

  /** Moves a tenant along its lifecycle; refuses (409) a move its current status forbids. */
  async transition(idOrSlug: string, action: TenantAction, actor: string): Promise<TenantView> {
    const { from, to } = TRANSITIONS[action];
    const current = await this.find(idOrSlug);
    const hostnames = await this.hostnamesOf(current.id);
    const moved = await this.dataSource.transaction(async (manager) => {
      // The status this move starts from, for the audit entry: read under the row lock, since
      // another request may have moved the tenant since `find` above.
      const [locked] = await manager.query<{ status: TenantStatus }[]>(
        'SELECT status FROM platform.tenants WHERE id = $1 FOR UPDATE',
        [current.id],
      );
      const result: unknown[][] = await manager.query(
        `UPDATE platform.tenants
            SET status = $2, status_reason = NULL, updated_at = now(),
                suspended_at = CASE WHEN $2 = 'suspended' THEN now() ELSE suspended_at END,
                deleted_at = CASE WHEN $2 = 'deleted' THEN now() ELSE deleted_at END
          WHERE id = $1 AND status = ANY($3::text[])
        RETURNING id`,
        [current.id, to, from],
      );
      if (result[0]?.length === 0) return false;
      if (action === 'delete') {
        // Hostnames go back to the pool at once; the schema stays until a purge.
        await manager.delete(TenantDomainEntity, { tenantId: current.id });
      }
      if (action === 'retry') {
        await manager.update(
          ProvisioningStepEntity,
          { tenantId: current.id, status: 'failed' },
          { status: 'pending' },
        );
      }
      await this.audit.record(manager, {
        actor,
        action: `tenant.${action}`,
        tenantId: current.id,
        details: { from: locked.status, to },
        // A delete also frees the tenant's hostnames: they are part of what changed.
        before:
          action === 'delete' ? { status: locked.status, hostnames } : { status: locked.status },
        after: action === 'delete' ? { status: to, hostnames: [] } : { status: to },
      });
      return true;
    });
    if (!moved) {
      const latest = await this.find(current.id);
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidTransition,
        `Cannot ${action} a tenant that is ${latest.status} (allowed from: ${from.join(', ')})`,
      );
    }
    await this.notifier.tenantChanged(current.id, hostnames);
    if (action === 'retry') await this.provisioning.enqueue(current.id);
    if (action === 'delete') await this.dropTenantRole(current);
    return this.get(current.id);
  }

  /**
   * Nobody may act as a deleted tenant again: its role goes (the kept schema passes to the
   * platform's owner; see DeletedTenantRoles). The delete itself has happened; a failure here
   * is logged, and the data plane already refuses deleted tenants before any transaction.
   */
  private async dropTenantRole(tenant: TenantEntity): Promise<void> {
    try {
      await this.deletedRoles.remove(tenant);
    } catch (error) {
      this.logger.error(
        { err: error, tenantId: tenant.id },
        `Could not drop the role of deleted tenant ${tenant.id}`,
      );
    }
  }

  /** Starts verification of the custom domain given at creation (a no-op once it is done). */
  private async verifyCustomDomains(tenantId: string): Promise<void> {
    const domains = await this.dataSource
      .getRepository(TenantDomainEntity)
      .findBy({ tenantId, kind: 'custom', status: 'pending_verification' });
    for (const domain of domains) await this.domainsQueue.verify(domain);
  }

  private customDomainDeadline(): Date {
    return new Date(
      Date.now() + this.config.integrations.customDomains.verifyWindowMinutes * 60_000,
    );
  }

  private async hostnamesOf(tenantId: string): Promise<string[]> {
    const domains = await this.dataSource.getRepository(TenantDomainEntity).findBy({ tenantId });
    return domains.map((domain) => domain.hostname);
  }

  private checkCustomDomain(raw: string): string {
    const checked = customHostnameProblem(raw, this.config.platformDomain);
    if ('problem' in checked) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidCustomDomain,
        checked.problem === 'platform-domain'
          ? `customDomain must not be ${this.config.platformDomain} or one of its subdomains`
          : 'customDomain must be a DNS hostname such as app.example.com (no port, IP or wildcard)',
      );
    }
    return checked.hostname;
  }

  /** Serialises requests with the same key, then returns the tenant an earlier one created. */
  private async replay(
    manager: EntityManager,
    key: string,
    requestHash: string,
  ): Promise<TenantEntity | null> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `idempotency:${key}`,
    ]);
    const earlier = await manager.findOneBy(IdempotencyKeyEntity, { key });
    if (!earlier) return null;
    if (earlier.requestHash !== requestHash) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.IdempotencyKeyReused,
        'This Idempotency-Key was used with a different request body',
      );
    }
    return manager.findOneByOrFail(TenantEntity, { id: earlier.tenantId });
  }

  /**
   * Takes a ready schema from the warm pool when one is at the latest template version (its
   * schema steps are then already recorded as done), else records a new tenant whose schema
   * the job creates. Either way, with its platform subdomain (and custom domain, pending).
   */
  private async insertTenant(
    manager: EntityManager,
    input: CreateTenantDto,
    customHostname: string | null,
  ): Promise<TenantEntity> {
    const cluster = this.config.defaultTenantCluster;
    const pooledId = await this.warmPool.claim(manager, cluster, this.migrator.latestVersion);
    // Else an id whose role was made ahead (TenantRoleUpkeep), so onboarding changes no role.
    const id = pooledId ?? (await this.roleReserve.claim(manager, cluster)) ?? randomUUID();
    const now = new Date();
    const tenant = manager.create(TenantEntity, {
      id,
      slug: input.slug,
      name: input.name,
      plan: input.plan ?? 'free',
      adminEmail: input.adminEmail.toLowerCase(),
      status: 'provisioning',
      statusReason: null,
      schemaName: schemaNameForTenant(id),
      cluster,
      templateVersion: pooledId ? this.migrator.latestVersion : 0,
      createdAt: now,
      updatedAt: now,
    });
    try {
      if (pooledId) {
        await manager.update(
          TenantEntity,
          { id },
          {
            slug: tenant.slug,
            name: tenant.name,
            plan: tenant.plan,
            adminEmail: tenant.adminEmail,
            status: 'provisioning',
            createdAt: now,
            updatedAt: now,
          },
        );
      } else {
        await manager.insert(TenantEntity, tenant);
      }
      await manager.insert(TenantDomainEntity, {
        tenantId: id,
        hostname: `${input.slug}.${this.config.platformDomain}`,
        kind: 'subdomain',
        status: 'active',
      });
      if (customHostname) {
        await manager.insert(
          TenantDomainEntity,
          newCustomDomain(id, customHostname, this.customDomainDeadline()),
        );
      }
    } catch (error) {
      throw translateUniqueViolation(error, input.slug, customHostname);
    }
    if (!pooledId) {
      await manager.insert(
        ProvisioningStepEntity,
        PROVISIONING_STEP_NAMES.map((step, position) => ({
          tenantId: id,
          step,
          position,
          status: 'pending' as const,
          attempts: 0,
        })),
      );
    }
    return tenant;
  }
}

function translateUniqueViolation(
  error: unknown,
  slug: string,
  customHostname: string | null,
): unknown {
  if (!(error instanceof QueryFailedError)) return error;
  const { code, constraint } = error.driverError as { code?: string; constraint?: string };
  if (code !== UNIQUE_VIOLATION) return error;
  if (constraint === 'tenants_slug_key') {
    return new ControlPlaneException(
      ControlPlaneErrorCode.SlugTaken,
      `slug "${slug}" is already taken`,
    );
  }
  if (constraint === 'tenant_domains_hostname_key') {
    return new ControlPlaneException(
      ControlPlaneErrorCode.HostnameTaken,
      `hostname ${customHostname ?? slug} is already in use by another tenant`,
    );
  }
  return error;
}

/** Canonical (key-sorted) JSON of the request, so property order does not change the hash. */
function hashRequest(input: CreateTenantDto): string {
  const entries = Object.entries(input).filter(([, value]) => value !== undefined);
  entries.sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}
