/**
 * Database round trips per request, measured on the wire rather than read off the code.
 *
 * Each server is started with its DATABASE_URL pointing at a counting proxy and is sent one
 * request at a time (after a warm-up that fills the host cache and opens the connection), twice:
 *
 * 1. replies forwarded at once: message counts and the baseline latency;
 * 2. every PostgreSQL reply held back by REPLY_DELAY_MS: a request that waits for k replies in
 *    sequence gets k x REPLY_DELAY_MS slower, whatever the wire looks like, so
 *    (p50 delayed - p50 direct) / (time actually held) counts the round trips causally. The delay
 *    also makes the proxy's own "flight" count exact: pipelined writes all arrive long before
 *    the held-back reply is released, so they cannot be mistaken for a second trip.
 *
 * pg_stat_statements is not preloaded on this server (and the bench does not change server
 * config); pg_stat_database counts transactions, not statements or round trips, and flushes
 * lazily. The proxy sees every message, so it is the direct measure.
 */
import type { BenchTenant } from './tenant-fleet';
import { HostClient } from './http-client';
import { diffCounts, PgWireCounter, type WireCounts } from './pg-wire-counter';
import { startServerChild } from './child-server';

export const REPLY_DELAY_MS = 10;
const WARM_REQUESTS = 200;

export interface RoundTripTarget {
  readonly key: string;
  readonly label: string;
  readonly entry: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface RoundTripResult {
  readonly server: string;
  readonly requests: number;
  /** Protocol counts per request, from the pass without delay. */
  readonly perRequest: Record<keyof WireCounts, number>;
  /** Client flights per request with replies delayed (the exact wire count). */
  readonly flightsPerRequest: number;
  readonly latencyMs: { directP50: number; delayedP50: number };
  /** How long replies were really held (setTimeout overshoots REPLY_DELAY_MS a little). */
  readonly meanHoldMs: number;
  /** (delayed p50 - direct p50) / meanHoldMs: round trips as the request experiences them. */
  readonly roundTripsFromLatency: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function measureRoundTrips(
  databaseUrl: string,
  target: RoundTripTarget,
  tenants: readonly BenchTenant[],
  requests: number,
): Promise<RoundTripResult> {
  const database = new URL(databaseUrl);
  const proxy = await PgWireCounter.start(database.hostname, Number(database.port || 5432));
  const viaProxy = new URL(databaseUrl);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const child = await startServerChild({
    name: `${target.key}-wire`,
    entry: target.entry,
    env: { ...target.env, DATABASE_URL: viaProxy.toString() },
  });
  const client = new HostClient(child.url, 1);
  const pass = async (count: number) => {
    const before = proxy.snapshot();
    const latencies: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const tenant = tenants[i % tenants.length];
      const response = await client.get('/api/projects', tenant.host, tenant.token);
      if (response.status !== 200)
        throw new Error(`${target.key}: ${response.status} ${response.body}`);
      latencies.push(response.ms);
    }
    return { counts: diffCounts(proxy.snapshot(), before), p50: median(latencies) };
  };
  try {
    await pass(WARM_REQUESTS);
    const direct = await pass(requests);
    proxy.replyDelayMs = REPLY_DELAY_MS;
    await pass(Math.min(20, requests));
    proxy.takeMeanHoldMs();
    const delayed = await pass(requests);
    const holdMs = proxy.takeMeanHoldMs();
    const perRequest = Object.fromEntries(
      Object.entries(direct.counts).map(([key, value]) => [key, value / requests]),
    ) as Record<keyof WireCounts, number>;
    return {
      server: target.key,
      requests,
      perRequest,
      flightsPerRequest: delayed.counts.flights / requests,
      latencyMs: { directP50: direct.p50, delayedP50: delayed.p50 },
      meanHoldMs: holdMs,
      roundTripsFromLatency: (delayed.p50 - direct.p50) / holdMs,
    };
  } finally {
    client.close();
    await child.stop();
    await proxy.close();
  }
}
