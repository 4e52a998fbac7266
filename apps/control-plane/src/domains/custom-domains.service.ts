import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { normalizeHostname } from '@platform/tenancy';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { TenantChangeNotifier } from '../tenants/tenant-change.notifier';
import { TenantDomainEntity } from '../tenants/tenant-domain.entity';
import { customHostnameProblem } from '../tenants/tenant-hostnames';
import { TenantRegistry } from '../tenants/tenant-registry.service';
import type { TenantEntity } from '../tenants/tenant.entity';
import { DomainsQueue } from './domains.queue';
import { newCustomDomain } from './new-custom-domain';

const UNIQUE_VIOLATION = '23505';

export interface DnsRecordToCreate {
  readonly type: 'CNAME' | 'TXT';
  readonly name: string;
  readonly value: string;
}

export interface CustomDomainView {
  readonly id: string;
  readonly hostname: string;
  readonly kind: string;
  readonly status: string;
  readonly verificationError: string | null;
  readonly verifyUntil: Date | null;
  readonly lastCheckedAt: Date | null;
  readonly verifiedAt: Date | null;
  readonly activatedAt: Date | null;
  /** What the customer must publish; present for custom domains. */
  readonly records?: DnsRecordToCreate[];
}

/** Statuses in which a tenant may own custom domains (not deleted, not failed to set up). */
const DOMAIN_OWNER_STATUSES = new Set(['provisioning', 'active', 'suspended']);

/**
 * A tenant's own hostnames: claimed here, verified by a job that reads DNS until the window
 * closes, then given a certificate by HTTP-01 (DomainCertificates) and served.
 */
@Injectable()
export class CustomDomains {
  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly tenants: TenantRegistry,
    private readonly queue: DomainsQueue,
    private readonly notifier: TenantChangeNotifier,
    private readonly audit: AuditLog,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async add(idOrSlug: string, rawHostname: string, actor: string): Promise<CustomDomainView> {
    const tenant = await this.tenants.find(idOrSlug);
    if (!DOMAIN_OWNER_STATUSES.has(tenant.status)) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.TenantNotActive,
        `Domains can be added to a tenant that is provisioning, active or suspended (it is ${tenant.status})`,
      );
    }
    const hostname = this.checkHostname(rawHostname);
    const limit = this.config.integrations.customDomains.perTenant;
    const domain = await this.registry.transaction(async (manager) => {
      // Serialises adds of one tenant, so two concurrent requests cannot both pass the limit.
      await manager.query('SELECT 1 FROM platform.tenants WHERE id = $1 FOR UPDATE', [tenant.id]);
      const [{ count }] = await manager.query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM platform.tenant_domains
          WHERE tenant_id = $1 AND kind = 'custom'`,
        [tenant.id],
      );
      if (count >= limit) {
        throw new ControlPlaneException(
          ControlPlaneErrorCode.QuotaExceeded,
          `custom domains: this tenant has ${count} of ${limit} allowed (CUSTOM_DOMAINS_PER_TENANT)`,
        );
      }
      const row = manager.create(
        TenantDomainEntity,
        newCustomDomain(tenant.id, hostname, this.verifyUntil()),
      );
      try {
        await manager.insert(TenantDomainEntity, row);
      } catch (error) {
        throw translateHostnameTaken(error, hostname);
      }
      await this.audit.record(manager, {
        actor,
        action: 'tenant.domain.add',
        tenantId: tenant.id,
        details: { hostname },
        before: null,
        after: auditedState(row),
      });
      return row;
    });
    await this.queue.verify(domain);
    return this.view(tenant, domain);
  }

  async list(idOrSlug: string): Promise<CustomDomainView[]> {
    const tenant = await this.tenants.find(idOrSlug);
    const domains = await this.registry
      .getRepository(TenantDomainEntity)
      .find({ where: { tenantId: tenant.id }, order: { createdAt: 'ASC' } });
    return domains.map((domain) => this.view(tenant, domain));
  }

  async get(idOrSlug: string, hostname: string): Promise<CustomDomainView> {
    const tenant = await this.tenants.find(idOrSlug);
    return this.view(tenant, await this.findDomain(tenant, hostname));
  }

  /** Checks DNS again now (e.g. the customer just published the records, or the window closed). */
  async recheck(idOrSlug: string, hostname: string, actor: string): Promise<CustomDomainView> {
    const tenant = await this.tenants.find(idOrSlug);
    const domain = await this.findDomain(tenant, hostname);
    const before = auditedState(domain);
    let after = before;
    if (domain.status === 'verification_failed' || domain.status === 'pending_verification') {
      const restart = {
        status: 'pending_verification' as const,
        verificationError: null,
        verifyUntil: this.verifyUntil(),
      };
      await this.registry.getRepository(TenantDomainEntity).update({ id: domain.id }, restart);
      after = { ...before, ...restart };
      await this.queue.verify(domain);
    } else if (domain.status === 'certificate_failed') {
      await this.queue.issueCertificate(domain);
    }
    await this.audit.record(this.registry.manager, {
      actor,
      action: 'tenant.domain.recheck',
      tenantId: tenant.id,
      details: { hostname: domain.hostname },
      before,
      after,
    });
    return this.get(tenant.id, domain.hostname);
  }

  /** Removes a custom domain: it stops selecting the tenant, and its certificate stops being served. */
  async remove(idOrSlug: string, hostname: string, actor: string): Promise<void> {
    const tenant = await this.tenants.find(idOrSlug);
    const domain = await this.findDomain(tenant, hostname);
    if (domain.kind !== 'custom') {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidCustomDomain,
        `${domain.hostname} is the tenant's platform subdomain and cannot be removed`,
      );
    }
    await this.registry.transaction(async (manager) => {
      await manager.delete(TenantDomainEntity, { id: domain.id });
      await manager.query(
        `UPDATE platform.certificates SET status = 'replaced', updated_at = now()
          WHERE subject = $1 AND tenant_id = $2 AND status IN ('ordering', 'issued')`,
        [domain.hostname, tenant.id],
      );
      await this.audit.record(manager, {
        actor,
        action: 'tenant.domain.remove',
        tenantId: tenant.id,
        details: { hostname: domain.hostname },
        before: auditedState(domain),
        after: null,
      });
    });
    await this.notifier.tenantChanged(tenant.id, [domain.hostname]);
  }

  private async findDomain(tenant: TenantEntity, rawHostname: string): Promise<TenantDomainEntity> {
    const hostname = normalizeHostname(rawHostname);
    const domain = hostname
      ? await this.registry
          .getRepository(TenantDomainEntity)
          .findOneBy({ tenantId: tenant.id, hostname })
      : null;
    if (!domain) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.DomainNotFound,
        `Tenant ${tenant.slug} has no domain "${rawHostname.slice(0, 253)}"`,
      );
    }
    return domain;
  }

  private checkHostname(raw: string): string {
    const checked = customHostnameProblem(raw, this.config.platformDomain);
    if ('problem' in checked) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidCustomDomain,
        checked.problem === 'platform-domain'
          ? `hostname must not be ${this.config.platformDomain} or one of its subdomains`
          : 'hostname must be a DNS hostname such as app.example.com (no port, IP, wildcard or path)',
      );
    }
    return checked.hostname;
  }

  private verifyUntil(): Date {
    return new Date(
      Date.now() + this.config.integrations.customDomains.verifyWindowMinutes * 60_000,
    );
  }

  private view(tenant: TenantEntity, domain: TenantDomainEntity): CustomDomainView {
    return {
      id: domain.id,
      hostname: domain.hostname,
      kind: domain.kind,
      status: domain.status,
      // A row just inserted has these unset (undefined): show them as null, as GET does.
      verificationError: domain.verificationError ?? null,
      verifyUntil: domain.verifyUntil ?? null,
      lastCheckedAt: domain.lastCheckedAt ?? null,
      verifiedAt: domain.verifiedAt ?? null,
      activatedAt: domain.activatedAt ?? null,
      ...(domain.kind === 'custom' &&
        domain.verificationToken && {
          records: [
            { type: 'CNAME' as const, name: domain.hostname, value: this.platformHostname(tenant) },
            {
              type: 'TXT' as const,
              name: this.txtName(domain.hostname),
              value: domain.verificationToken,
            },
          ],
        }),
    };
  }

  platformHostname(tenant: { slug: string }): string {
    return `${tenant.slug}.${this.config.platformDomain}`;
  }

  txtName(hostname: string): string {
    return `${this.config.integrations.customDomains.txtLabel}.${hostname}`;
  }
}

/** A domain as its audit entries show it, before and after a change. */
function auditedState(domain: TenantDomainEntity): Record<string, unknown> {
  return {
    hostname: domain.hostname,
    kind: domain.kind,
    status: domain.status,
    verificationError: domain.verificationError ?? null,
    verifyUntil: domain.verifyUntil ?? null,
  };
}

function translateHostnameTaken(error: unknown, hostname: string): unknown {
  if (!(error instanceof QueryFailedError)) return error;
  const { code, constraint } = error.driverError as { code?: string; constraint?: string };
  if (code === UNIQUE_VIOLATION && constraint === 'tenant_domains_hostname_key') {
    return new ControlPlaneException(
      ControlPlaneErrorCode.HostnameTaken,
      `hostname ${hostname} is already in use by a tenant`,
    );
  }
  return error;
}
