import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import type { TenantEvent, TenantEvents } from '@platform/tenant-events';
import { AUTH_TENANT_EVENTS } from './auth.tokens';
import type DataLoader from 'dataloader';
import {
  batchedRereads,
  isDue,
  refreshInBackground,
  type RefreshableEntry,
} from '../common/background-refresh';
import { spreadTtl } from '../common/spread-ttl';
import { SigningKeyDirectory } from './signing-key.directory';
import { TenantKeySet, type SigningKey } from './tenant-key-set';

/**
 * A tenant's keys, when they are due to be read again (in the background, while they keep
 * answering) and when this replica stops trusting them without a fresh read (a TTL later).
 */
interface CachedKeySet extends RefreshableEntry {
  readonly keys: TenantKeySet;
  readonly expiresAtMs: number;
}

/** A kid this replica does not know may be a key rotated in a moment ago: re-read, this seldom. */
const UNKNOWN_KID_RELOAD_INTERVAL_MS = 1000;

/**
 * Tenant id → its signing keys, per replica, so verifying a token costs no database round trip
 * once a tenant's keys are loaded. Dropped when the control plane announces a change of the
 * tenant (a rotation is one) and entirely on resubscription; the tenant cache's TTL is the
 * backstop for a lost message. A key's retirement time travels with it, so a key retires on time
 * without any message.
 */
@Injectable()
export class SigningKeyCache implements OnModuleInit {
  private readonly logger = new Logger(SigningKeyCache.name);
  private readonly entries: LRUCache<string, CachedKeySet>;
  private readonly ttlMs: number;
  /** Concurrent misses for one tenant share a single registry query. */
  private readonly inFlight = new Map<string, Promise<TenantKeySet>>();
  /** Bumped by every change event: a load that straddles one is used but not cached. */
  private generation = 0;
  /** Background re-reads of due key sets, a query per batch (batchedRereads). */
  private readonly rereads: DataLoader<string, readonly SigningKey[]>;

  constructor(
    private readonly directory: SigningKeyDirectory,
    @Inject(AUTH_TENANT_EVENTS) private readonly events: TenantEvents,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    // Expiry is checked here against the entry's own expiry rather than by lru-cache's `ttl`,
    // which would read the clock once more on every request.
    this.entries = new LRUCache<string, CachedKeySet>({ max: config.tenantCache.size });
    this.ttlMs = config.tenantCache.ttlMs;
    this.rereads = batchedRereads((tenantIds) => directory.keysOfTenants(tenantIds), []);
  }

  async onModuleInit(): Promise<void> {
    await this.events.subscribe((event) => this.onTenantEvent(event));
  }

  /**
   * The tenant's keys, without waiting. Past their refresh time they still answer while one
   * read of the registry runs in the background (the first request past it starts it): before,
   * keys past their TTL were dropped and every tenant's next request waited for its own read,
   * in waves every ~25 s (README, "VM M").
   */
  cached(tenantId: string, nowMs: number = Date.now()): TenantKeySet | undefined {
    const entry = this.entries.get(tenantId);
    if (!entry || nowMs >= entry.expiresAtMs) return undefined;
    if (isDue(entry, nowMs)) this.refresh(tenantId, entry);
    return entry.keys;
  }

  load(tenantId: string): Promise<TenantKeySet> {
    return this.loadOnce(tenantId, (id) => this.directory.keysOf(id));
  }

  /**
   * Concurrent loads of one tenant's keys share one read of the registry: `read` asks it, alone
   * (a load, which a request waits on) or in a batch (a background read).
   */
  private loadOnce(
    tenantId: string,
    read: (tenantId: string) => Promise<readonly SigningKey[]>,
  ): Promise<TenantKeySet> {
    const pending = this.inFlight.get(tenantId);
    if (pending) return pending;
    const load: Promise<TenantKeySet> = this.read(tenantId, read).finally(() => {
      if (this.inFlight.get(tenantId) === load) this.inFlight.delete(tenantId);
    });
    this.inFlight.set(tenantId, load);
    return load;
  }

  /**
   * A fresher set when `stale` lacks something (an unknown kid, no current key) and was loaded
   * long enough ago; null otherwise. Bounds what a flood of made-up kids costs the registry to
   * one query per tenant per interval.
   */
  reloadIfStale(tenantId: string, stale: TenantKeySet): Promise<TenantKeySet> | null {
    if (Date.now() - stale.loadedAtMs < UNKNOWN_KID_RELOAD_INTERVAL_MS) return null;
    if (this.entries.get(tenantId)?.keys === stale) this.entries.delete(tenantId);
    return this.load(tenantId);
  }

  get size(): number {
    return this.entries.size;
  }

  private refresh(tenantId: string, entry: CachedKeySet): void {
    refreshInBackground(
      entry,
      () => this.loadOnce(tenantId, (id) => this.rereads.load(id)),
      (error) =>
        this.logger.debug({ err: error, tenantId }, "could not read a tenant's signing keys again"),
    );
  }

  private async read(
    tenantId: string,
    readKeys: (tenantId: string) => Promise<readonly SigningKey[]>,
  ): Promise<TenantKeySet> {
    const generation = this.generation;
    const rows = await readKeys(tenantId);
    const loadedAtMs = Date.now();
    // An expired entry is still here (expiry is ours): keys it holds unchanged are kept as they
    // are. After a change event there is none, and every key and verdict starts afresh.
    const previous = this.entries.peek(tenantId)?.keys;
    const keys = new TenantKeySet(
      previous ? rows.map((key) => previous.unchanged(key)) : rows,
      loadedAtMs,
    );
    if (generation === this.generation) {
      const refreshAtMs = loadedAtMs + spreadTtl(this.ttlMs);
      this.entries.set(tenantId, {
        keys,
        refreshAtMs,
        expiresAtMs: refreshAtMs + this.ttlMs,
        refreshing: false,
      });
    }
    return keys;
  }

  private onTenantEvent(event: TenantEvent): void {
    this.generation++;
    this.inFlight.clear();
    if (event.type === 'resync') {
      this.entries.clear();
      return;
    }
    this.logger.debug({ tenantId: event.tenantId }, 'tenant changed; dropping cached signing keys');
    this.entries.delete(event.tenantId);
  }
}
