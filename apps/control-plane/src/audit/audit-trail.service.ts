import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { isTenantId } from '@platform/tenancy';
import { TenantRegistry, type Page } from '../tenants/tenant-registry.service';
import { AuditEntryEntity } from './audit-entry.entity';
import type { ListAuditQuery, TenantAuditQuery } from './dto/list-audit.query';

export interface AuditEntryView {
  readonly id: string;
  readonly createdAt: Date;
  readonly actor: string;
  readonly operatorId: string | null;
  readonly action: string;
  readonly tenantId: string | null;
  readonly source: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
  readonly details: Record<string, unknown>;
  readonly prevHash: string;
  readonly hash: string;
}

/** Reads the audit trail for the API and the console: filtered, paginated, newest first. */
@Injectable()
export class AuditTrail {
  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly tenants: TenantRegistry,
  ) {}

  async list(query: ListAuditQuery): Promise<Page<AuditEntryView>> {
    // A tenant id is taken as is (its entries outlive the tenant's row); a slug must exist.
    const tenantId = query.tenant
      ? isTenantId(query.tenant)
        ? query.tenant.toLowerCase()
        : (await this.tenants.find(query.tenant)).id
      : undefined;
    return this.page(query, tenantId);
  }

  async forTenant(idOrSlug: string, query: TenantAuditQuery): Promise<Page<AuditEntryView>> {
    const tenant = await this.tenants.find(idOrSlug);
    return this.page(query, tenant.id);
  }

  private async page(query: TenantAuditQuery, tenantId?: string): Promise<Page<AuditEntryView>> {
    const builder = this.registry
      .getRepository(AuditEntryEntity)
      .createQueryBuilder('entry')
      // Ids follow chain order, which is the order entries were written.
      .orderBy('entry.id', 'DESC')
      .limit(query.limit)
      .offset(query.offset);
    if (tenantId) builder.andWhere('entry.tenant_id = :tenantId', { tenantId });
    if (query.operator)
      builder.andWhere('entry.operator_id = :operator', { operator: query.operator });
    if (query.action?.endsWith('*')) {
      const prefix = query.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
      builder.andWhere('entry.action LIKE :prefix', { prefix: `${prefix}%` });
    } else if (query.action) {
      builder.andWhere('entry.action = :action', { action: query.action });
    }
    if (query.from) builder.andWhere('entry.created_at >= :from', { from: new Date(query.from) });
    if (query.to) builder.andWhere('entry.created_at < :to', { to: new Date(query.to) });
    const [entries, total] = await builder.getManyAndCount();
    return {
      items: entries.map((entry) => toView(entry)),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }
}

function toView(entry: AuditEntryEntity): AuditEntryView {
  return {
    id: entry.id,
    createdAt: entry.createdAt,
    actor: entry.actor,
    operatorId: entry.operatorId,
    action: entry.action,
    tenantId: entry.tenantId,
    source: entry.source,
    ip: entry.ip,
    userAgent: entry.userAgent,
    requestId: entry.requestId,
    before: entry.before,
    after: entry.after,
    details: entry.details,
    prevHash: entry.prevHash,
    hash: entry.hash,
  };
}
