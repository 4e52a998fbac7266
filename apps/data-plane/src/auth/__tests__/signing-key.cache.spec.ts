import { createSecretKey, randomBytes } from 'node:crypto';
import type { DataPlaneConfig } from '@platform/config';
import type { TenantEvents } from '@platform/tenant-events';
import { SigningKeyCache } from '../signing-key.cache';
import type { SigningKeyDirectory } from '../signing-key.directory';
import type { SigningKey } from '../tenant-key-set';

const TTL_MS = 30_000;

function cacheWithKeys() {
  const directory = {
    keysOf: jest.fn(async (tenantId: string) => [
      { kid: tenantId.padEnd(22, 'k'), secret: createSecretKey(randomBytes(32)), retireAtMs: null },
    ]),
  };
  return { cache: cacheOn(directory).cache, directory };
}

function cacheOn(directory: { keysOf: (tenantId: string) => Promise<SigningKey[]> }) {
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
  it('reads each tenant loaded at once again after 75-100 % of the TTL, not all at the same instant', async () => {
    const { cache, directory } = cacheWithKeys();
    const tenants = Array.from({ length: 400 }, (_, index) => `tenant${index}`);
    const before = Date.now();
    await Promise.all(tenants.map((tenant) => cache.load(tenant)));
    const after = Date.now();
    const reads = () => directory.keysOf.mock.calls.length;
    expect(reads()).toBe(tenants.length);

    const cachedAt = (nowMs: number) =>
      tenants.filter((tenant) => cache.cached(tenant, nowMs) !== undefined).length;
    expect(cachedAt(before + TTL_MS * 0.75 - 1)).toBe(tenants.length);
    expect(reads()).toBe(tenants.length); // none due yet
    // Halfway through the last quarter all still answer, and about half are due: each of those
    // is read again once, in the background. The reloads are spread.
    expect(cachedAt(after + TTL_MS * 0.875)).toBe(tenants.length);
    const due = reads() - tenants.length;
    expect(due).toBeGreaterThan(tenants.length * 0.3);
    expect(due).toBeLessThan(tenants.length * 0.7);
    await new Promise((resolve) => setImmediate(resolve));
    // A TTL past the latest refresh time nothing answers any more without a fresh read.
    expect(cachedAt(after + 2 * TTL_MS + 1)).toBe(0);
  });

  it('keeps the same key objects across a reload that finds the keys unchanged', async () => {
    const stored = {
      kid: 'k'.repeat(22),
      secret: randomBytes(32),
      retireAtMs: null as number | null,
    };
    const other = {
      kid: 'o'.repeat(22),
      secret: randomBytes(32),
      retireAtMs: null as number | null,
    };
    // The registry answers with new objects on every read, as the real directory does.
    const { cache } = cacheOn({
      keysOf: async () =>
        [stored, other].map((key) => ({ ...key, secret: createSecretKey(key.secret) })),
    });
    const first = await cache.load('tenant');
    const second = await cache.reloadIfStale('tenant', first);
    expect(second).toBeNull(); // loaded a moment ago: no reload yet

    // A reload (the TTL's, here asked directly) that finds the same keys: the same objects, so
    // verdicts cached against them (by identity) still hold.
    const reloaded = await cache.load('tenant');
    expect(reloaded).not.toBe(first);
    expect(reloaded.verifying(stored.kid, Date.now())).toBe(
      first.verifying(stored.kid, Date.now()),
    );

    // A key whose retirement or secret changed is a new object; the other one is kept.
    stored.retireAtMs = Date.now() + 60_000;
    other.secret = randomBytes(32);
    const changed = await cache.load('tenant');
    expect(changed.verifying(stored.kid, Date.now())).not.toBe(
      reloaded.verifying(stored.kid, Date.now()),
    );
    expect(changed.verifying(stored.kid, Date.now())?.retireAtMs).toBe(stored.retireAtMs);
    expect(changed.verifying(other.kid, Date.now())).not.toBe(
      reloaded.verifying(other.kid, Date.now()),
    );
  });
});
