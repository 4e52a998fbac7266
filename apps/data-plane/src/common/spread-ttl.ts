/** The shortest share of its TTL an entry may get. */
const SHORTEST_SHARE = 0.75;

/**
 * A TTL drawn between 75 % and 100 % of `ttlMs`, for caches whose entries are often loaded
 * together (a replica's start, or a burst of traffic after a quiet spell). With one fixed TTL,
 * every tenant loaded in the same second expires in the same second as well, and the next
 * requests queue behind a registry query each: a thousand tenants' worth every TTL, each time
 * on the same requests. Spread out, the same reloads trickle in over the last quarter of the
 * TTL.
 */
export function spreadTtl(ttlMs: number, random: () => number = Math.random): number {
  return Math.round(ttlMs * (SHORTEST_SHARE + (1 - SHORTEST_SHARE) * random()));
}
