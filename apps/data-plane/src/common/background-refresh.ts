import DataLoader from 'dataloader';

/** After a failed background read, the next one waits this long: not one per request. */
export const REFRESH_RETRY_MS = 1_000;

/** A cache entry that is read again in the background once due (hosts, signing keys). */
export interface RefreshableEntry {
  /** Pushed back after a failed read, so that an unreachable registry is not asked per request. */
  refreshAtMs: number;
  /** Set while its read runs, so that one request starts it, not every one. */
  refreshing: boolean;
}

/**
 * Whether `entry` is due to be read again at `nowMs` and no read of it runs yet: the caller
 * then starts one with `refreshInBackground` and keeps answering from the entry.
 */
export function isDue(entry: RefreshableEntry, nowMs: number): boolean {
  return nowMs >= entry.refreshAtMs && !entry.refreshing;
}

/**
 * Runs `read` for `entry` with nobody waiting on it. However it ends, a later request may start
 * the next read: a success has replaced the entry (or was not cached, a change event having
 * come meanwhile), a failure is tried again REFRESH_RETRY_MS later and reported to `failed`.
 */
export function refreshInBackground(
  entry: RefreshableEntry,
  read: () => Promise<unknown>,
  failed: (error: unknown) => void,
): void {
  entry.refreshing = true;
  read().then(
    () => {
      entry.refreshing = false;
    },
    (error: unknown) => {
      entry.refreshing = false;
      entry.refreshAtMs = Date.now() + REFRESH_RETRY_MS;
      failed(error);
    },
  );
}

/** How long the first due entry waits for others to share its registry query. */
export const REREAD_BATCH_WINDOW_MS = 100;
/** At most this many entries per query. */
export const REREAD_BATCH_MAX = 500;

/**
 * Gathers the background re-reads of a cache into one registry query per
 * REREAD_BATCH_WINDOW_MS. A replica's entries fall due in a steady stream (a thousand active
 * tenants: ~130 hosts and ~130 key sets a second with a 30 s TTL), and one query each was a
 * statement, a round trip and a plan apiece: in the windows they fell in, the data plane's own
 * PostgreSQL time per request went from ~0.13 to 0.18-0.28 ms (`npm run bench`, README "VM M").
 * Nobody waits on these reads, so the window costs no request anything; it delays the backstop
 * for a lost change message by that much. `readMany` answers the keys it found; the others read
 * as `absent`.
 */
export function batchedRereads<K, V>(
  readMany: (keys: readonly K[]) => Promise<ReadonlyMap<K, V>>,
  absent: V,
): DataLoader<K, V> {
  return new DataLoader<K, V>(
    async (keys) => {
      const found = await readMany(keys);
      return keys.map((key) => found.get(key) ?? absent);
    },
    {
      // Each key is read afresh: the caller's entry is the cache, and its `refreshing` flag
      // already keeps one read per entry.
      cache: false,
      maxBatchSize: REREAD_BATCH_MAX,
      batchScheduleFn: (run) => {
        setTimeout(run, REREAD_BATCH_WINDOW_MS).unref();
      },
    },
  );
}
