import { createSecretKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { PrivateKeyCipher } from '@platform/acme';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { ClusterConnections, PLATFORM_SCHEMA } from '@platform/database';
import type { SigningKey } from './tenant-key-set';

interface KeyRow {
  tenant_id: string;
  kid: string;
  secret_sealed: string;
  retire_at: Date | null;
}

/**
 * Reads a tenant's signing keys from the registry (read-only: the control plane creates and
 * rotates them) and opens their sealed secrets. Keys already retired are not loaded.
 */
@Injectable()
export class SigningKeyDirectory {
  private readonly logger = new Logger(SigningKeyDirectory.name);
  private readonly cipher: PrivateKeyCipher;
  /**
   * Secrets already opened, by their sealed text. The key cache reads every tenant's keys again
   * at each TTL; opening one (AES-GCM, a cipher context per key) cost more than the read, for a
   * secret that had not changed. A sealed text carries a random IV, so a new or re-sealed
   * secret never matches an old entry.
   */
  private readonly opened: LRUCache<string, KeyObject>;

  constructor(
    private readonly clusters: ClusterConnections,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.cipher = PrivateKeyCipher.fromSecret(config.signingKeys.encryptionKey.reveal());
    // About two keys per tenant at most (the current one and one retiring).
    this.opened = new LRUCache({ max: 2 * config.tenantCache.size });
    if (config.signingKeys.developmentKey) {
      this.logger.warn(
        'SIGNING_KEY_ENCRYPTION_KEY is not set: tenant signing keys are opened with the public development key',
      );
    }
  }

  async keysOf(tenantId: string): Promise<SigningKey[]> {
    return (await this.keysOfTenants([tenantId])).get(tenantId) ?? [];
  }

  /**
   * The keys of many tenants in one query (the background re-reads of cached keys come in
   * batches): every tenant asked is in the map, a tenant without live keys with none.
   */
  async keysOfTenants(tenantIds: readonly string[]): Promise<Map<string, SigningKey[]>> {
    const { rows } = await this.clusters.pool('main').query<KeyRow>(
      `SELECT tenant_id, kid, secret_sealed, retire_at
         FROM ${PLATFORM_SCHEMA}.tenant_signing_keys
        WHERE tenant_id = ANY($1::uuid[]) AND (retire_at IS NULL OR retire_at > now())`,
      [tenantIds],
    );
    const keysByTenant = new Map<string, SigningKey[]>(tenantIds.map((id) => [id, []]));
    for (const row of rows) {
      try {
        keysByTenant.get(row.tenant_id)?.push({
          kid: row.kid,
          secret: this.open(row.secret_sealed),
          retireAtMs: row.retire_at ? row.retire_at.getTime() : null,
        });
      } catch {
        // A key that does not open (another SIGNING_KEY_ENCRYPTION_KEY) verifies nothing; the
        // message names the key, never its sealed or open secret.
        this.logger.error(
          { tenantId: row.tenant_id, kid: row.kid },
          'cannot open signing key; is SIGNING_KEY_ENCRYPTION_KEY right?',
        );
      }
    }
    return keysByTenant;
  }

  private open(sealed: string): KeyObject {
    let secret = this.opened.get(sealed);
    if (!secret) {
      secret = createSecretKey(Buffer.from(this.cipher.decrypt(sealed), 'base64'));
      this.opened.set(sealed, secret);
    }
    return secret;
  }
}
