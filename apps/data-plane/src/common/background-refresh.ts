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
