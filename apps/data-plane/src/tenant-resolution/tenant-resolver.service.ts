import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { normalizeHostname, type ResolvedTenant } from '@platform/tenancy';
import { TenantEvents, type TenantEvent } from '@platform/tenant-events';
import { TenantDirectory } from './tenant-directory';
import type DataLoader from 'dataloader';
import { batchedRereads, isDue, refreshInBackground } from '../common/background-refresh';
import { TenantHostCache, type CachedHost } from './tenant-host-cache';
import { tenantHostOf } from './tenant-host';

type CachedAnswer = { readonly tenant: ResolvedTenant | null };

const CACHED_FOR_REQUEST = Symbol('platform.cachedTenantOfRequest');

/** A request's cached answer, and the change generation it was read in. */
interface RequestWithAnswer extends IncomingMessage {
  [CACHED_FOR_REQUEST]?: { readonly answer: CachedAnswer; readonly generation: number };
}

/**
 * Host → tenant. Starts from the registry and fails closed: a host that does not normalise, or
 * that the registry does not know, selects no tenant at all — better a 404 than another
 * tenant's data. Answers are cached per replica and dropped when any replica changes the tenant
 * (Redis pub/sub), with a TTL as the backstop for a lost message.
 */
@Injectable()
export class TenantResolver implements OnModuleInit {
  private readonly logger = new Logger(TenantResolver.name);
  private readonly cache: TenantHostCache;
  /** Concurrent misses for one hostname share a single registry query. */
  private readonly inFlight = new Map<string, Promise<ResolvedTenant | null>>();
  /**
   * Bumped by every change event. A registry answer read before a change must not be cached
   * after it (it would outlive the change by a whole TTL), so a lookup caches only when no
   * event arrived while it ran.
   */
  private generation = 0;
  /** Background re-reads of due hosts, a query per batch (batchedRereads). */
  private readonly rereads: DataLoader<string, ResolvedTenant | null>;

  constructor(
    private readonly directory: TenantDirectory,
    private readonly events: TenantEvents,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.cache = new TenantHostCache(config.tenantCache);
    this.rereads = batchedRereads((hostnames) => directory.findByHostnames(hostnames), null);
  }

  async onModuleInit(): Promise<void> {
    await this.events.subscribe((event) => this.onTenantEvent(event));
  }

  /**
   * The cached answer for a Host header, without waiting: `undefined` when the registry must be
   * asked (then call `resolve`). Most Host headers arrive already normalised (lower case, no
   * port), and a cache key is by construction a normalised hostname, which normalises to itself:
   * so a raw header equal to a key is that hostname, and the normalising work is skipped.
   */
  cached(rawHost: string | undefined): CachedAnswer | undefined {
    if (rawHost === undefined) return { tenant: null };
    const now = Date.now();
    let entry = this.cache.get(rawHost, now);
    if (!entry) {
      const hostname = normalizeHostname(rawHost);
      if (!hostname) return { tenant: null };
      entry = this.cache.get(hostname, now);
      if (!entry) return undefined;
    }
    if (isDue(entry, now)) this.refresh(entry);
    return entry;
  }

  /**
   * `cached` for the request's tenant host (tenantHostOf), read once per request: the two gates
   * ahead of Nest and the resolution middleware all ask, and each asking parsed the headers and
   * went through the LRU again. The answer kept on the request stands only while no change
   * event arrived since; a request that waited in its tenant's line past a suspension is
   * judged on the cache as it is now.
   */
  cachedFor(
    request: IncomingMessage,
    trustedProxies: ReadonlySet<string>,
  ): CachedAnswer | undefined {
    const kept = (request as RequestWithAnswer)[CACHED_FOR_REQUEST];
    if (kept && kept.generation === this.generation) return kept.answer;
    const answer = this.cached(tenantHostOf(request, trustedProxies));
    if (answer) {
      (request as RequestWithAnswer)[CACHED_FOR_REQUEST] = { answer, generation: this.generation };
    }
    return answer;
  }

  async resolve(rawHost: string | undefined): Promise<ResolvedTenant | null> {
    const cached = this.cached(rawHost);
    if (cached) return cached.tenant;
    const hostname = normalizeHostname(rawHost);
    if (!hostname) return null;
    return this.lookUpOnce(hostname, (name) => this.directory.findByHostname(name));
  }

  get cachedHosts(): number {
    return this.cache.size;
  }

  /**
   * Concurrent reads of one hostname (misses, a background read) share one read of the
   * registry: `read` asks it, alone (a miss, which a request waits on) or in a batch (a
   * background read).
   */
  private lookUpOnce(
    hostname: string,
    read: (hostname: string) => Promise<ResolvedTenant | null>,
  ): Promise<ResolvedTenant | null> {
    const pending = this.inFlight.get(hostname);
    if (pending) return pending;
    const lookup: Promise<ResolvedTenant | null> = this.lookUp(hostname, read).finally(() => {
      if (this.inFlight.get(hostname) === lookup) this.inFlight.delete(hostname);
    });
    this.inFlight.set(hostname, lookup);
    return lookup;
  }

  /**
   * Reads a cached host again without anyone waiting for it: the entry keeps answering until
   * the read is in (or until it expires, a TTL later, if the registry cannot be read). Before,
   * an entry past its TTL was dropped, and the next request of every tenant waited for its own
   * registry read; with the TTLs of a replica's tenants drawn from the same quarter of the TTL,
   * that was a wave of reads every ~25 s, and the requests in it were the slow ones
   * (`npm run bench`, README "VM M"). Hosts falling due together share one query.
   */
  private refresh(entry: CachedHost): void {
    const { hostname } = entry;
    refreshInBackground(
      entry,
      () => this.lookUpOnce(hostname, (name) => this.rereads.load(name)),
      (error) => this.logger.debug({ err: error, hostname }, 'could not read a cached host again'),
    );
  }

  private async lookUp(
    hostname: string,
    read: (hostname: string) => Promise<ResolvedTenant | null>,
  ): Promise<ResolvedTenant | null> {
    const generation = this.generation;
    const tenant = await read(hostname);
    if (generation === this.generation) this.cache.remember(hostname, tenant);
    return tenant;
  }

  private onTenantEvent(event: TenantEvent): void {
    this.generation++;
    // Requests arriving from now on must not join a lookup that may predate the change.
    this.inFlight.clear();
    if (event.type === 'resync') {
      this.cache.clear();
      return;
    }
    this.logger.debug({ tenantId: event.tenantId }, 'tenant changed; dropping cached hosts');
    this.cache.forgetTenant(event.tenantId, event.hostnames);
  }
}
