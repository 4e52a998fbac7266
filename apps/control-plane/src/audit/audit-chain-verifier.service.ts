import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, QueryRunner } from 'typeorm';
import { AUDIT_GENESIS_HASH, auditEntryHash } from './audit-chain';

const DEFAULT_BATCH = 1000;

export type AuditChainReport =
  | { readonly intact: true; readonly entries: number }
  | {
      readonly intact: false;
      /** Entries that verified before the break. */
      readonly entries: number;
      /** The first entry that does not verify (or, for a cut-off end, the missing one). */
      readonly brokenAt: string;
      readonly problem: string;
    };

interface Row {
  id: string;
  created_at: Date;
  source: string | null;
  actor: string;
  operator_id: string | null;
  action: string;
  tenant_id: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  before: string | null;
  after: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

/**
 * Walks the audit chain in id order and recomputes every hash in Node (audit-chain.ts), from
 * one consistent snapshot, so entries appended meanwhile neither break nor join the walk.
 */
@Injectable()
export class AuditChainVerifier {
  constructor(@InjectDataSource() private readonly registry: DataSource) {}

  /** `batchSize`: entries read per round trip (the walk keeps one batch in memory). */
  async verify(batchSize = DEFAULT_BATCH): Promise<AuditChainReport> {
    const runner = this.registry.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      await runner.query('SET TRANSACTION READ ONLY');
      const report = await this.walk(runner, batchSize);
      await runner.commitTransaction();
      return report;
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }

  private async walk(runner: QueryRunner, batchSize: number): Promise<AuditChainReport> {
    let entries = 0;
    let previous: { id: string | null; hash: string } = { id: null, hash: AUDIT_GENESIS_HASH };
    for (;;) {
      // `id` stays bigint in the select list (pg hands it over as a string anyway): an `id::text
      // AS id` there would make ORDER BY sort text, 1, 10, 2.
      const rows = (await runner.query(
        `SELECT id, created_at, source, actor, operator_id, action,
                tenant_id::text AS tenant_id, request_id, ip, user_agent,
                before::text AS before, after::text AS after, details::text AS details,
                prev_hash, hash
           FROM platform.audit_log
          WHERE id > $1
          ORDER BY id
          LIMIT $2`,
        [previous.id ?? '-1', batchSize],
      )) as Row[];
      for (const row of rows) {
        if (row.prev_hash !== previous.hash) {
          const before = previous.id === null ? 'the start of the chain' : `entry ${previous.id}`;
          return broken(
            entries,
            row.id,
            `prev_hash ${short(row.prev_hash)} does not match ${before} (${short(previous.hash)}): ` +
              'an entry before it was removed, or inserted, or rewritten with a new hash',
          );
        }
        const expected = auditEntryHash({
          id: row.id,
          createdAt: row.created_at,
          source: row.source,
          actor: row.actor,
          operatorId: row.operator_id,
          action: row.action,
          tenantId: row.tenant_id,
          requestId: row.request_id,
          ip: row.ip,
          userAgent: row.user_agent,
          beforeText: row.before,
          afterText: row.after,
          detailsText: row.details,
          prevHash: row.prev_hash,
        });
        if (expected !== row.hash) {
          return broken(
            entries,
            row.id,
            `stored hash ${short(row.hash)} does not match its fields (${short(expected)}): ` +
              'the entry was changed after it was written',
          );
        }
        entries += 1;
        previous = { id: row.id, hash: row.hash };
      }
      if (rows.length < batchSize) break;
    }
    return this.checkHead(runner, entries, previous);
  }

  /** The head names the last entry appended: a chain cut short at its end shows here. */
  private async checkHead(
    runner: QueryRunner,
    entries: number,
    last: { id: string | null; hash: string },
  ): Promise<AuditChainReport> {
    const [head] = (await runner.query(
      'SELECT last_id::text AS last_id, last_hash FROM platform.audit_chain_head',
    )) as { last_id: string | null; last_hash: string }[];
    if (!head) {
      return broken(entries, last.id ?? '0', 'the chain head (platform.audit_chain_head) is gone');
    }
    if (head.last_id !== last.id || head.last_hash !== last.hash) {
      return broken(
        entries,
        head.last_id ?? last.id ?? '0',
        `the chain head records entry ${head.last_id ?? 'none'} (${short(head.last_hash)}) ` +
          `but the last entry is ${last.id ?? 'none'} (${short(last.hash)}): ` +
          'entries were removed from the end, or the head was moved',
      );
    }
    return { intact: true, entries };
  }
}

function broken(entries: number, brokenAt: string, problem: string): AuditChainReport {
  return { intact: false, entries, brokenAt, problem };
}

function short(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}
