import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { PrivateKeyCipher } from '@platform/acme';
import { Secret, type DataPlaneConfig } from '@platform/config';
import type { ClusterConnections } from '@platform/database';
import { SigningKeyDirectory } from '../signing-key.directory';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');

interface Row {
  tenant_id?: string;
  kid: string;
  secret_sealed: string;
  retire_at: Date | null;
}

/**
 * The registry's rows for every tenant (tenant "tenant" unless a row names another), as the
 * directory's one query answers them; `asked` collects each query's parameters.
 */
function directoryOver(rows: Row[], asked: unknown[][] = []) {
  const clusters = {
    pool: () => ({
      query: (_sql: string, params: unknown[]) => {
        asked.push(params);
        return Promise.resolve({ rows: rows.map((row) => ({ tenant_id: 'tenant', ...row })) });
      },
    }),
  } as unknown as ClusterConnections;
  const config = {
    signingKeys: { encryptionKey: new Secret(ENCRYPTION_KEY), developmentKey: false },
    tenantCache: { size: 100, ttlMs: 30_000, unknownHostTtlMs: 1_000 },
  } as unknown as DataPlaneConfig;
  return new SigningKeyDirectory(clusters, config);
}

describe('SigningKeyDirectory', () => {
  const cipher = PrivateKeyCipher.fromSecret(ENCRYPTION_KEY);
  const seal = (secret: Buffer) => cipher.encrypt(secret.toString('base64'));

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterEach(() => jest.restoreAllMocks());

  it('opens each sealed secret once: a read of unchanged keys decrypts nothing', async () => {
    const first = randomBytes(32);
    const rows: Row[] = [{ kid: 'k'.repeat(22), secret_sealed: seal(first), retire_at: null }];
    const directory = directoryOver(rows);
    const decrypt = jest.spyOn(PrivateKeyCipher.prototype, 'decrypt');

    const [opened] = await directory.keysOf('tenant');
    expect(opened.secret.export().equals(first)).toBe(true);
    expect(decrypt).toHaveBeenCalledTimes(1);
    const [again] = await directory.keysOf('tenant');
    expect(again.secret).toBe(opened.secret);
    expect(decrypt).toHaveBeenCalledTimes(1);

    // A new secret (a rotation) is sealed afresh and opened.
    const second = randomBytes(32);
    rows.push({ kid: 'n'.repeat(22), secret_sealed: seal(second), retire_at: null });
    const keys = await directory.keysOf('tenant');
    expect(keys.map((key) => key.secret.export().equals(second))).toEqual([false, true]);
    expect(decrypt).toHaveBeenCalledTimes(2);
  });

  it('leaves out a key that does not open, and does not remember the failure', async () => {
    const other = PrivateKeyCipher.fromSecret(randomBytes(32).toString('base64'));
    const rows: Row[] = [
      { kid: 'b'.repeat(22), secret_sealed: other.encrypt('x'), retire_at: null },
    ];
    const directory = directoryOver(rows);
    const decrypt = jest.spyOn(PrivateKeyCipher.prototype, 'decrypt');
    expect(await directory.keysOf('tenant')).toEqual([]);
    expect(await directory.keysOf('tenant')).toEqual([]);
    expect(decrypt).toHaveBeenCalledTimes(2);
  });

  it("reads many tenants' keys in one query, each tenant's under its own id, and a tenant without keys with none", async () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const asked: unknown[][] = [];
    const directory = directoryOver(
      [
        { tenant_id: 'tenant-a', kid: 'a'.repeat(22), secret_sealed: seal(a), retire_at: null },
        { tenant_id: 'tenant-b', kid: 'b'.repeat(22), secret_sealed: seal(b), retire_at: null },
      ],
      asked,
    );
    const keys = await directory.keysOfTenants(['tenant-a', 'tenant-b', 'tenant-c']);
    expect(asked).toEqual([[['tenant-a', 'tenant-b', 'tenant-c']]]);
    expect([...keys.keys()]).toEqual(['tenant-a', 'tenant-b', 'tenant-c']);
    expect(keys.get('tenant-a')?.map((key) => key.kid)).toEqual(['a'.repeat(22)]);
    expect(keys.get('tenant-a')?.[0]?.secret.export().equals(a)).toBe(true);
    expect(keys.get('tenant-b')?.map((key) => key.kid)).toEqual(['b'.repeat(22)]);
    expect(keys.get('tenant-c')).toEqual([]);
  });
});
