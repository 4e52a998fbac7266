import { createSecretKey, randomBytes } from 'node:crypto';
import type { DataPlaneConfig } from '@platform/config';
import type { TenantEvents } from '@platform/tenant-events';
import { SigningKeyCache } from '../signing-key.cache';
import type { SigningKeyDirectory } from '../signing-key.directory';

const TTL_MS = 30_000;

function cacheWithKeys() {
  const directory = {
    keysOf: jest.fn(async (tenantId: string) => [
      { kid: tenantId.padEnd(22, 'k'), secret: createSecretKey(randomBytes(32)), retireAtMs: null },
    ]),
  };
  const events = { subscribe: jest.fn(async () => undefined) };
  const config = { tenantCache: { size: 10_000, ttlMs: TTL_MS, unknownHostTtlMs: 1000 } };
  const cache = new SigningKeyCache(
    directory as unknown as SigningKeyDirectory,
    events as unknown as TenantEvents,
    config as unknown as DataPlaneConfig,
  );
  return { cache, directory };
}

describe('SigningKeyCache', () => {
  it('keeps each tenant loaded at once for 75-100 % of the TTL, not all until the same instant', async () => {
    const { cache, directory } = cacheWithKeys();
    const tenants = Array.from({ length: 400 }, (_, index) => `tenant${index}`);
    const before = Date.now();
    await Promise.all(tenants.map((tenant) => cache.load(tenant)));
    const after = Date.now();
    expect(directory.keysOf).toHaveBeenCalledTimes(tenants.length);

    const cachedAt = (nowMs: number) =>
      tenants.filter((tenant) => cache.cached(tenant, nowMs) !== undefined).length;
    expect(cachedAt(before + TTL_MS * 0.75 - 1)).toBe(tenants.length);
    expect(cachedAt(after + TTL_MS)).toBe(0);
    // Halfway through the last quarter, about half have expired: the reloads are spread.
    const halfway = cachedAt(after + TTL_MS * 0.875);
    expect(halfway).toBeGreaterThan(tenants.length * 0.3);
    expect(halfway).toBeLessThan(tenants.length * 0.7);
  });
});
