import type { DataSource } from 'typeorm';
import type { AccountKeyStore, PrivateKeyCipher } from '@platform/acme';

/** The ACME account key, encrypted, one per directory (production and staging differ). */
export class RegistryAcmeAccountStore implements AccountKeyStore {
  constructor(
    private readonly registry: DataSource,
    private readonly directoryUrl: string,
    private readonly cipher: PrivateKeyCipher,
  ) {}

  async load(): Promise<string | null> {
    const [row] = await this.registry.query<{ key: string }[]>(
      `SELECT private_key_encrypted AS key FROM platform.acme_accounts WHERE directory_url = $1`,
      [this.directoryUrl],
    );
    return row ? this.cipher.decrypt(row.key) : null;
  }

  /** The first worker to save wins; a racing second keeps using what `load` then returns. */
  async save(privateKeyPem: string): Promise<void> {
    await this.registry.query(
      `INSERT INTO platform.acme_accounts (directory_url, private_key_encrypted) VALUES ($1, $2)
       ON CONFLICT (directory_url) DO NOTHING`,
      [this.directoryUrl, this.cipher.encrypt(privateKeyPem)],
    );
  }
}
