import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface AuditRecord {
  readonly actor: string;
  readonly action: string;
  readonly tenantId: string | null;
  readonly details?: Record<string, unknown>;
}

/** Who did what to which tenant, written in the same transaction as the change itself. */
@Injectable()
export class AuditLog {
  async record(manager: EntityManager, entry: AuditRecord): Promise<void> {
    await manager.query(
      `INSERT INTO platform.audit_log (actor, action, tenant_id, details) VALUES ($1, $2, $3, $4)`,
      [entry.actor, entry.action, entry.tenantId, JSON.stringify(entry.details ?? {})],
    );
  }
}
