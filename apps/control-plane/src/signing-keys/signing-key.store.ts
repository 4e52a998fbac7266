import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { PrivateKeyCipher } from '@platform/acme';
import { COMMON_CONFIG, type CommonConfig } from '@platform/config';

/** A tenant's signing key as operators see it: never the secret, sealed or not. */
export interface SigningKeyView {
  readonly kid: string;
  readonly algorithm: 'HS256';
  readonly createdAt: Date;
  /** Null for the current key; otherwise when tokens signed with it stop being accepted. */
  readonly retireAt: Date | null;
  readonly status: 'current' | 'retiring' | 'retired';
}

export interface Rotation {
  readonly currentKid: string;
  /** The key that signed until now and verifies until `retireAt` (none for a keyless tenant). */
  readonly previous: { kid: string; retireAt: Date } | null;
  /** Older keys that were still verifying and stop now. */
  readonly retiredNow: readonly string[];
}

const KEYS_LISTED = 100;

/** TypeORM answers an UPDATE ... RETURNING with `[rows, rowCount]`, other statements with rows. */
function updatedRows<T>(result: unknown): T[] {
  const pair = result as [T[], number];
  return Array.isArray(pair[0]) && typeof pair[1] === 'number' ? pair[0] : (result as T[]);
}

/** 128 random bits: unique in practice, and nothing about the tenant can be read from it. */
export function newKid(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Tenants' token-signing keys in the registry (platform.tenant_signing_keys). Only the control
 * plane writes them; the data plane reads them. Secrets are 256 random bits, sealed with
 * SIGNING_KEY_ENCRYPTION_KEY before they reach the database and never returned by anything here.
 */
@Injectable()
export class SigningKeyStore {
  private readonly logger = new Logger(SigningKeyStore.name);
  private readonly cipher: PrivateKeyCipher;

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    @Inject(COMMON_CONFIG) config: CommonConfig,
  ) {
    this.cipher = PrivateKeyCipher.fromSecret(config.signingKeys.encryptionKey.reveal());
    if (config.signingKeys.developmentKey) {
      this.logger.warn(
        'SIGNING_KEY_ENCRYPTION_KEY is not set: tenant signing keys are sealed with the public development key',
      );
    }
  }

  /**
   * Gives the tenant a current key unless it has one. Idempotent (a re-run, or two at once, leave
   * exactly one current key: the partial unique index turns the second insert into a no-op).
   * True when this call created it.
   */
  async ensureKey(
    tenantId: string,
    manager: EntityManager = this.registry.manager,
  ): Promise<boolean> {
    const inserted = await manager.query<{ kid: string }[]>(
      `INSERT INTO platform.tenant_signing_keys (tenant_id, kid, secret_sealed)
       VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) WHERE retire_at IS NULL DO NOTHING
       RETURNING kid`,
      [tenantId, newKid(), this.sealNewSecret()],
    );
    return inserted.length > 0;
  }

  /**
   * Keys for tenants that have none: those that existed before per-tenant keys, or whose
   * activation predates them. Deleted tenants and warm-pool rows get none.
   */
  async backfill(): Promise<number> {
    const rows = await this.registry.query<{ id: string }[]>(
      `SELECT t.id FROM platform.tenants t
        WHERE t.status IN ('provisioning', 'active', 'suspended', 'failed')
          AND NOT EXISTS (SELECT 1 FROM platform.tenant_signing_keys k
                           WHERE k.tenant_id = t.id AND k.retire_at IS NULL)`,
    );
    let created = 0;
    for (const row of rows) if (await this.ensureKey(row.id)) created++;
    if (created > 0) this.logger.log({ created }, 'created signing keys for tenants without one');
    return created;
  }

  async list(
    tenantId: string,
    manager: EntityManager = this.registry.manager,
  ): Promise<SigningKeyView[]> {
    const rows = await manager.query<
      { kid: string; created_at: Date; retire_at: Date | null; retired: boolean }[]
    >(
      `SELECT kid, created_at, retire_at, retire_at IS NOT NULL AND retire_at <= now() AS retired
         FROM platform.tenant_signing_keys WHERE tenant_id = $1
        ORDER BY created_at DESC, id LIMIT $2`,
      [tenantId, KEYS_LISTED],
    );
    return rows.map((row) => ({
      kid: row.kid,
      algorithm: 'HS256',
      createdAt: row.created_at,
      retireAt: row.retire_at,
      status: row.retire_at === null ? 'current' : row.retired ? 'retired' : 'retiring',
    }));
  }

  /**
   * Inside `manager`'s transaction: a new current key; the previous current one keeps verifying
   * for `overlapSeconds` (tokens it signed a moment ago live out their lifetime), and keys still
   * in an earlier overlap retire now, so at most two keys verify at any time. Rotations of one
   * tenant are serialised by a transaction-level advisory lock.
   */
  async rotate(
    manager: EntityManager,
    tenantId: string,
    overlapSeconds: number,
  ): Promise<Rotation> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('signing-keys:' || $1))`, [
      tenantId,
    ]);
    const retiredNow = updatedRows<{ kid: string }>(
      await manager.query(
        `UPDATE platform.tenant_signing_keys SET retire_at = now()
        WHERE tenant_id = $1 AND retire_at IS NOT NULL AND retire_at > now()
        RETURNING kid`,
        [tenantId],
      ),
    );
    const [previous] = updatedRows<{ kid: string; retire_at: Date }>(
      await manager.query(
        `UPDATE platform.tenant_signing_keys
          SET retire_at = now() + make_interval(secs => $2::double precision)
        WHERE tenant_id = $1 AND retire_at IS NULL
        RETURNING kid, retire_at`,
        [tenantId, overlapSeconds],
      ),
    );
    const currentKid = newKid();
    await manager.query(
      `INSERT INTO platform.tenant_signing_keys (tenant_id, kid, secret_sealed) VALUES ($1, $2, $3)`,
      [tenantId, currentKid, this.sealNewSecret()],
    );
    return {
      currentKid,
      previous: previous ? { kid: previous.kid, retireAt: previous.retire_at } : null,
      retiredNow: retiredNow.map((row) => row.kid),
    };
  }

  private sealNewSecret(): string {
    return this.cipher.encrypt(randomBytes(32).toString('base64'));
  }
}
