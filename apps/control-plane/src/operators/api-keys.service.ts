import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { DataSource, QueryFailedError } from 'typeorm';
import { AuditLog } from '../audit/audit-log.service';
import type { Principal } from '../auth/principal';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import type { OperatorRow } from './operator.view';
import { isWellFormedApiKey, newApiKey, sha256Hex } from './operator-secrets';

const UNIQUE_VIOLATION = '23505';
/** `last_used_at` is written at most this often: not one UPDATE per automated request. */
const TOUCH_INTERVAL = '1 minute';

interface ApiKeyRow {
  id: string;
  operator_id: string;
  operator_email: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** What the API shows of a key: never the key itself, which only its creator saw, once. */
export interface ApiKeyView {
  id: string;
  operatorId: string;
  operatorEmail: string;
  name: string;
  prefix: string;
  status: 'active' | 'expired' | 'revoked';
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export interface CreatedApiKey {
  apiKey: ApiKeyView;
  /** The key, shown this once: `Authorization: Bearer <key>`. */
  key: string;
}

export interface ActiveApiKey {
  readonly id: string;
  readonly prefix: string;
  readonly operator: OperatorRow;
}

const KEY_COLUMNS = `k.id, k.operator_id, o.email AS operator_email, k.name, k.prefix,
  k.created_at, k.last_used_at, k.expires_at, k.revoked_at`;

/**
 * API keys for automation. A key belongs to an operator and acts with that operator's current
 * role: demoting or disabling the operator changes what its keys can do at once. Each operator
 * manages its own keys; admins see and revoke everyone's.
 */
@Injectable()
export class ApiKeys {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Only from a signed-in session: a key cannot mint keys (a leaked one would otherwise outlive
   * its own revocation through its successors), and the bootstrap token is no account to own one.
   */
  async create(owner: Principal, name: string, expiresAt: Date | null): Promise<CreatedApiKey> {
    if (owner.kind !== 'session' || !owner.operatorId) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.OperatorRequired,
        'API keys are created by a signed-in operator (POST /v1/auth/login), not with a key or the bootstrap token',
      );
    }
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidApiKey,
        'expiresAt must be in the future',
      );
    }
    const operatorId = owner.operatorId;
    for (let attempt = 1; ; attempt += 1) {
      const { key, prefix } = newApiKey();
      try {
        const id = await this.dataSource.transaction(async (manager) => {
          const [row] = await manager.query<{ id: string }[]>(
            `INSERT INTO platform.api_keys (operator_id, name, prefix, key_hash, expires_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id`,
            [operatorId, name.trim(), prefix, sha256Hex(key), expiresAt],
          );
          await this.audit.record(manager, {
            actor: owner.actor,
            action: 'api_key.create',
            tenantId: null,
            details: { apiKeyId: row.id, operatorId, name: name.trim(), prefix, expiresAt },
          });
          return row.id;
        });
        return { apiKey: await this.view(id), key };
      } catch (error) {
        // A prefix is 32 random bits: a clash is rare but possible; draw again.
        const clash = isUniqueViolation(error);
        if (!clash || attempt >= 3) throw error;
      }
    }
  }

  /** The caller's own keys; every key for admins. Newest first. */
  async list(principal: Principal): Promise<ApiKeyView[]> {
    const all = principal.role === 'admin';
    const rows = await this.dataSource.query<ApiKeyRow[]>(
      `SELECT ${KEY_COLUMNS}
         FROM platform.api_keys k JOIN platform.operators o ON o.id = k.operator_id
        WHERE $1::boolean OR k.operator_id = $2::uuid
        ORDER BY k.created_at DESC, k.id`,
      [all, principal.operatorId],
    );
    return rows.map(toApiKeyView);
  }

  /** Revokes one of the caller's keys (any key for admins); others' keys are "not found". */
  async revoke(principal: Principal, id: string): Promise<ApiKeyView> {
    const key = await this.visibleRow(principal, id);
    await this.dataSource.transaction(async (manager) => {
      const [, changed] = await manager.query<[unknown[], number]>(
        `UPDATE platform.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
        [id],
      );
      if (changed === 0) return;
      await this.audit.record(manager, {
        actor: principal.actor,
        action: 'api_key.revoke',
        tenantId: null,
        details: { apiKeyId: id, operatorId: key.operator_id, name: key.name, prefix: key.prefix },
      });
    });
    return this.view(id);
  }

  /** The live key this bearer value is, with its (enabled) operator; null otherwise. */
  async resolve(key: string): Promise<ActiveApiKey | null> {
    if (!isWellFormedApiKey(key)) return null;
    const [row] = await this.dataSource.query<
      (OperatorRow & { key_id: string; prefix: string; stale: boolean })[]
    >(
      `SELECT k.id AS key_id, k.prefix,
              k.last_used_at IS NULL OR k.last_used_at < now() - interval '${TOUCH_INTERVAL}'
                AS stale,
              o.id, o.email, o.name, o.role, o.password_hash, o.disabled_at, o.created_at,
              o.last_login_at
         FROM platform.api_keys k JOIN platform.operators o ON o.id = k.operator_id
        WHERE k.key_hash = $1
          AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > now())
          AND o.disabled_at IS NULL`,
      [sha256Hex(key)],
    );
    if (!row) return null;
    const { key_id: id, prefix, stale, ...operator } = row;
    if (stale) {
      await this.dataSource.query(
        `UPDATE platform.api_keys SET last_used_at = now()
          WHERE id = $1
            AND (last_used_at IS NULL OR last_used_at < now() - interval '${TOUCH_INTERVAL}')`,
        [id],
      );
    }
    return { id, prefix, operator };
  }

  private async view(id: string): Promise<ApiKeyView> {
    const [row] = await this.dataSource.query<ApiKeyRow[]>(
      `SELECT ${KEY_COLUMNS}
         FROM platform.api_keys k JOIN platform.operators o ON o.id = k.operator_id
        WHERE k.id = $1`,
      [id],
    );
    return toApiKeyView(row);
  }

  private async visibleRow(principal: Principal, id: string): Promise<ApiKeyRow> {
    const [row] = isUUID(id)
      ? await this.dataSource.query<ApiKeyRow[]>(
          `SELECT ${KEY_COLUMNS}
             FROM platform.api_keys k JOIN platform.operators o ON o.id = k.operator_id
            WHERE k.id = $1 AND ($2::boolean OR k.operator_id = $3::uuid)`,
          [id, principal.role === 'admin', principal.operatorId],
        )
      : [];
    if (!row) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.ApiKeyNotFound,
        `API key ${id} not found`,
      );
    }
    return row;
  }
}

function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  const status =
    row.revoked_at !== null
      ? 'revoked'
      : row.expires_at !== null && row.expires_at.getTime() <= Date.now()
        ? 'expired'
        : 'active';
  return {
    id: row.id,
    operatorId: row.operator_id,
    operatorEmail: row.operator_email,
    name: row.name,
    prefix: row.prefix,
    status,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
  );
}
