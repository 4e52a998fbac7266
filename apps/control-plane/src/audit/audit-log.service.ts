import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditOrigins } from './audit-origin';

type Json = Record<string, unknown>;

export interface AuditRecord {
  /**
   * Who, as shown to people. Defaults to the caller the auth guard named, else the operator id,
   * else the source ("worker", "cli").
   */
  readonly actor?: string;
  readonly action: string;
  readonly tenantId: string | null;
  readonly details?: Json;
  /** The changed object's relevant state before and after the change (null: did not exist). */
  readonly before?: Json | null;
  readonly after?: Json | null;
  /** Defaults to the operator the request authenticated (null in jobs and the CLI). */
  readonly operatorId?: string | null;
}

/**
 * Who did what to which tenant, from where, with the state before and after: written in the
 * same transaction as the change itself whenever the caller has one.
 *
 * The database chains each entry to the previous one (migrations/1763920000000-audit-chain):
 * the insert holds the chain lock until its transaction ends, so record the entry as the last
 * statement of a transaction, after the change, to keep that window short.
 */
@Injectable()
export class AuditLog {
  async record(manager: EntityManager, entry: AuditRecord): Promise<void> {
    const origin = AuditOrigins.current();
    const operatorId = entry.operatorId !== undefined ? entry.operatorId : origin.operatorId();
    await manager.query(
      `INSERT INTO platform.audit_log
         (actor, operator_id, action, tenant_id, details, before, after,
          source, ip, user_agent, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        entry.actor ?? origin.actor() ?? operatorId ?? origin.source,
        operatorId,
        entry.action,
        entry.tenantId,
        JSON.stringify(entry.details ?? {}),
        jsonOrNull(entry.before),
        jsonOrNull(entry.after),
        origin.source,
        origin.ip,
        origin.userAgent,
        origin.requestId(),
      ],
    );
  }
}

function jsonOrNull(value: Json | null | undefined): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}
