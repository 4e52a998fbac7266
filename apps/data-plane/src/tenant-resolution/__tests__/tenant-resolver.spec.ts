import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import type { DataPlaneConfig } from '@platform/config';
import type { ResolvedTenant } from '@platform/tenancy';
import type { TenantEvent, TenantEvents } from '@platform/tenant-events';
import type { TenantDirectory } from '../tenant-directory';
import { TenantResolver } from '../tenant-resolver.service';
import { REREAD_BATCH_WINDOW_MS } from '../../common/background-refresh';

const acme: ResolvedTenant = {
  id: 'a1',
  slug: 'acme',
  name: 'Acme',
  plan: 'free',
  status: 'active',
  schemaName: 't_a1',
  cluster: 'main',
};

/** A directory that knows one hostname and counts its registry queries. */
function fakeDirectory() {
  const asked: string[] = [];
  const directory = {
    findByHostname: (hostname: string) => {
      asked.push(hostname);
      return Promise.resolve(hostname === 'acme.example.com' ? acme : null);
    },
    findByHostnames: (hostnames: readonly string[]) => {
      asked.push(...hostnames);
      return Promise.resolve(
        new Map(
          hostnames.filter((name) => name === 'acme.example.com').map((name) => [name, acme]),
        ),
      );
    },
  };
  return { directory: directory as unknown as TenantDirectory, asked };
}

async function newResolver() {
  const { directory, asked } = fakeDirectory();
  let publish: (event: TenantEvent) => void = () => undefined;
  const events = {
    subscribe: (handler: (event: TenantEvent) => void) => {
      publish = handler;
      return Promise.resolve();
    },
  } as unknown as TenantEvents;
  const config = {
    tenantCache: { size: 100, ttlMs: 60_000, unknownHostTtlMs: 60_000 },
  } as unknown as DataPlaneConfig;
  const resolver = new TenantResolver(directory, events, config);
  await resolver.onModuleInit();
  return { resolver, asked, publish: (event: TenantEvent) => publish(event) };
}

describe('TenantResolver.cached', () => {
  it('answers nothing before the registry was asked, then every spelling of the host at once', async () => {
    const { resolver, asked } = await newResolver();
    expect(resolver.cached('acme.example.com')).toBeUndefined();
    expect(await resolver.resolve('ACME.example.com:8080')).toBe(acme);
    expect(asked).toEqual(['acme.example.com']);
    for (const spelling of ['acme.example.com', 'Acme.Example.COM', 'acme.example.com.:443']) {
      expect(resolver.cached(spelling)?.tenant).toBe(acme);
    }
    expect(asked).toHaveLength(1);
  });

  it('refuses hosts that do not normalise, and no host at all, without asking the registry', async () => {
    const { resolver, asked } = await newResolver();
    for (const host of [undefined, '', '[::1]:80', '127.0.0.1', 'a..b', 'acme.example.com:99999']) {
      expect(resolver.cached(host)?.tenant).toBe(null);
    }
    expect(asked).toEqual([]);
  });

  it('remembers an unknown host as no tenant, and forgets it on any change', async () => {
    const { resolver, asked, publish } = await newResolver();
    expect(await resolver.resolve('nobody.example.com')).toBeNull();
    expect(resolver.cached('nobody.example.com')?.tenant).toBe(null);
    publish({ type: 'tenant-changed', tenantId: 'zz', hostnames: [] });
    expect(resolver.cached('nobody.example.com')).toBeUndefined();
    expect(asked).toEqual(['nobody.example.com']);
  });

  it('drops a changed tenant from the fast path too', async () => {
    const { resolver, publish } = await newResolver();
    await resolver.resolve('acme.example.com');
    publish({ type: 'tenant-changed', tenantId: 'a1', hostnames: ['acme.example.com'] });
    expect(resolver.cached('acme.example.com')).toBeUndefined();
    expect(resolver.cached('ACME.example.com')).toBeUndefined();
  });
});

describe('TenantResolver.cachedFor', () => {
  const request = (headers: Record<string, string>) =>
    ({ headers, socket: { remoteAddress: '10.0.0.9' } }) as unknown as IncomingMessage;

  it('reads the host once per request, and again once a change event arrived', async () => {
    const { resolver, publish } = await newResolver();
    await resolver.resolve('acme.example.com');
    const incoming = request({ host: 'acme.example.com' });
    expect(resolver.cachedFor(incoming, new Set())?.tenant).toBe(acme);
    // Kept on the request: what the header says now no longer matters...
    incoming.headers.host = 'nobody.example.com';
    expect(resolver.cachedFor(incoming, new Set())?.tenant).toBe(acme);
    // ...until a change: then the cache is read again, as it is now.
    publish({ type: 'tenant-changed', tenantId: 'a1', hostnames: ['acme.example.com'] });
    incoming.headers.host = 'acme.example.com';
    expect(resolver.cachedFor(incoming, new Set())).toBeUndefined();
    await resolver.resolve('acme.example.com');
    expect(resolver.cachedFor(incoming, new Set())?.tenant).toBe(acme);
  });

  it('keeps nothing for a host not cached yet, and reads X-Forwarded-Host only from a trusted proxy', async () => {
    const { resolver } = await newResolver();
    const incoming = request({
      host: 'nobody.example.com',
      'x-forwarded-host': 'acme.example.com',
    });
    expect(resolver.cachedFor(incoming, new Set(['10.0.0.9']))).toBeUndefined();
    await resolver.resolve('acme.example.com');
    await resolver.resolve('nobody.example.com');
    expect(
      resolver.cachedFor(
        request({ host: 'nobody.example.com', 'x-forwarded-host': 'acme.example.com' }),
        new Set(),
      )?.tenant,
    ).toBe(null);
    expect(resolver.cachedFor(incoming, new Set(['10.0.0.9']))?.tenant).toBe(acme);
  });
});

describe('TenantResolver, a cached host due to be read again', () => {
  const TTL_MS = 60_000;

  /**
   * A registry answering a new object for every host of example.com each time (tenant id: the
   * host's first label), or failing while `down`. `asked` counts queries, `hosts` what they read.
   */
  async function resolverOverRegistry() {
    const state = { asked: 0, hosts: 0, down: false };
    const tenantOf = (hostname: string) => ({ ...acme, id: hostname.split('.')[0] });
    const directory = {
      findByHostname: (hostname: string) => {
        state.asked += 1;
        state.hosts += 1;
        return state.down
          ? Promise.reject(new Error('registry unreachable'))
          : Promise.resolve(tenantOf(hostname));
      },
      findByHostnames: (hostnames: readonly string[]) => {
        state.asked += 1;
        state.hosts += hostnames.length;
        return state.down
          ? Promise.reject(new Error('registry unreachable'))
          : Promise.resolve(new Map(hostnames.map((name) => [name, tenantOf(name)])));
      },
    } as unknown as TenantDirectory;
    const events = { subscribe: () => Promise.resolve() } as unknown as TenantEvents;
    const config = {
      tenantCache: { size: 100, ttlMs: TTL_MS, unknownHostTtlMs: 60_000 },
    } as unknown as DataPlaneConfig;
    const resolver = new TenantResolver(directory, events, config);
    await resolver.onModuleInit();
    return { resolver, state };
  }
  /** Long enough for due reads to gather into their query and its answer to be in. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, REREAD_BATCH_WINDOW_MS + 20));

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterEach(() => jest.restoreAllMocks());

  it('keeps answering while one background read runs, and keeps the same tenant object', async () => {
    const { resolver, state } = await resolverOverRegistry();
    const start = Date.now();
    const first = await resolver.resolve('acme.example.com');
    expect(state.asked).toBe(1);
    expect(first?.id).toBe('acme');

    // Past its refresh time (at most the TTL), within its expiry (a TTL after that).
    const now = jest.spyOn(Date, 'now').mockReturnValue(start + TTL_MS + 1);
    expect(resolver.cached('acme.example.com')?.tenant).toBe(first);
    expect(resolver.cached('acme.example.com')?.tenant).toBe(first);
    await settle();
    expect(state.asked).toBe(2); // one read for both requests, none waited for it
    // Nothing changed: the answer read again is the same object, due again 75-100 % of a TTL
    // after that read.
    expect(resolver.cached('acme.example.com')?.tenant).toBe(first);
    now.mockReturnValue(start + TTL_MS + 0.75 * TTL_MS);
    expect(resolver.cached('acme.example.com')?.tenant).toBe(first);
    await settle();
    expect(state.asked).toBe(2);
  });

  it('retries a failed read a second later, and drops the entry a TTL after it was due', async () => {
    const { resolver, state } = await resolverOverRegistry();
    const start = Date.now();
    await resolver.resolve('acme.example.com');
    state.down = true;
    const now = jest.spyOn(Date, 'now').mockReturnValue(start + TTL_MS + 1);
    expect(resolver.cached('acme.example.com')?.tenant?.id).toBe('acme');
    await settle();
    expect(state.asked).toBe(2);
    // Not asked again on every request while the registry is down...
    expect(resolver.cached('acme.example.com')?.tenant?.id).toBe('acme');
    await settle();
    expect(state.asked).toBe(2);
    // ...but a second later.
    now.mockReturnValue(start + TTL_MS + 1_002);
    expect(resolver.cached('acme.example.com')?.tenant?.id).toBe('acme');
    await settle();
    expect(state.asked).toBe(3);
    // A TTL past its refresh time the entry is gone: the next request waits for the registry.
    now.mockReturnValue(start + 2 * TTL_MS + 1);
    expect(resolver.cached('acme.example.com')).toBeUndefined();
    await expect(resolver.resolve('acme.example.com')).rejects.toThrow('registry unreachable');
  });

  it('reads the hosts that fall due together in one query, and each answer reaches its own host', async () => {
    const { resolver, state } = await resolverOverRegistry();
    const start = Date.now();
    const hosts = Array.from({ length: 30 }, (_, index) => `t${index}.example.com`);
    await Promise.all(hosts.map((host) => resolver.resolve(host)));
    expect(state.asked).toBe(30);
    // A host gone from the registry meanwhile: its re-read in the batch drops it.
    const gone = 't7.example.com';
    const directory = (resolver as unknown as { directory: TenantDirectory }).directory;
    const findByHostnames = directory.findByHostnames.bind(directory);
    jest.spyOn(directory, 'findByHostnames').mockImplementation(async (names) => {
      const found = await findByHostnames(names);
      found.delete(gone);
      return found;
    });

    jest.spyOn(Date, 'now').mockReturnValue(start + TTL_MS + 1);
    for (const host of hosts) expect(resolver.cached(host)?.tenant?.id).toBe(host.split('.')[0]);
    await settle();
    expect(state.asked).toBe(31); // the 30 due hosts in one query
    expect(state.hosts).toBe(60);
    for (const host of hosts.filter((name) => name !== gone)) {
      expect(resolver.cached(host)?.tenant?.id).toBe(host.split('.')[0]);
    }
    expect(resolver.cached(gone)?.tenant).toBe(null);
  });
});
