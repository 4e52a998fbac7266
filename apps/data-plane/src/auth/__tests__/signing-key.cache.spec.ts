import { createSecretKey, randomBytes } from 'node:crypto';
import type { DataPlaneConfig } from '@platform/config';
import type { TenantEvents } from '@platform/tenant-events';
import { REREAD_BATCH_MAX, REREAD_BATCH_WINDOW_MS } from '../../common/background-refresh';
import { SigningKeyCache } from '../signing-key.cache';
import type { SigningKeyDirectory } from '../signing-key.directory';
import type { SigningKey } from '../tenant-key-set';

const TTL_MS = 30_000;

const keysOf = async (tenantId: string): Promise<SigningKey[]> => [
  { kid: tenantId.padEnd(22, 'k'), secret: createSecretKey(randomBytes(32)), retireAtMs: null },
];

function cacheWithKeys() {
  const directory = {
    keysOf: jest.fn(keysOf),
    keysOfTenants: jest.fn(
      async (tenantIds: readonly string[]) =>
        new Map(await Promise.all(tenantIds.map(async (id) => [id, await keysOf(id)] as const))),
    ),
  };
  return { cache: cacheOn(directory).cache, directory };
}

/** Long enough for due reads to gather into their query and its answer to be in. */
const settle = () => new Promise((resolve) => setTimeout(resolve, REREAD_BATCH_WINDOW_MS + 20));

function cacheOn(directory: {
  keysOf: (tenantId: string) => Promise<SigningKey[]>;
  keysOfTenants?: (tenantIds: readonly string[]) => Promise<Map<string, SigningKey[]>>;
}) {
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
  it('reads each tenant loaded at once again after 75-100 % of the TTL, not all at the same instant, in batches', async () => {
    const { cache, directory } = cacheWithKeys();
    const tenants = Array.from({ length: 1200 }, (_, index) => `tenant${index}`);
    const before = Date.now();
    await Promise.all(tenants.map((tenant) => cache.load(tenant)));
    const after = Date.now();
    expect(directory.keysOf).toHaveBeenCalledTimes(tenants.length);
    const reread = () =>
      directory.keysOfTenants.mock.calls.reduce((sum, [tenantIds]) => sum + tenantIds.length, 0);

    const cachedAt = (nowMs: number) =>
      tenants.filter((tenant) => cache.cached(tenant, nowMs) !== undefined).length;
    expect(cachedAt(before + TTL_MS * 0.75 - 1)).toBe(tenants.length);
    await settle();
    expect(reread()).toBe(0); // none due yet
    // Halfway through the last quarter all still answer, and about half are due: each of those
    // is read again once, in the background, the ones due together in few queries.
    expect(cachedAt(after + TTL_MS * 0.875)).toBe(tenants.length);
    await settle();
    const due = reread();
    expect(due).toBeGreaterThan(tenants.length * 0.3);
    expect(due).toBeLessThan(tenants.length * 0.7);
    expect(directory.keysOfTenants).toHaveBeenCalledTimes(Math.ceil(due / REREAD_BATCH_MAX));
    expect(new Set(directory.keysOfTenants.mock.calls.flatMap(([ids]) => ids)).size).toBe(due);
    // A TTL past the latest refresh time (the re-read ones' too) nothing answers any more
    // without a fresh read.
    expect(cachedAt(Date.now() + 2 * TTL_MS + 1)).toBe(0);
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
