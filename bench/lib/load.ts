/**
 * Load through autocannon, run in the bench parent (never in a server's process). Every request
 * is rebuilt by `setupRequest` with its own Host and Authorization, for all three servers alike,
 * so the load generator does the same work whichever server it measures.
 */
import autocannon from 'autocannon';

export interface RequestTarget {
  readonly host: string;
  readonly token: string;
}

export interface LoadOptions {
  readonly url: string;
  readonly path: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly pick: () => RequestTarget;
}

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** CPU the load generator (this process) used during the run, in ms. */
  readonly loadGeneratorCpuMs: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const cpuBefore = process.cpuUsage();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.durationSeconds,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        path: options.path,
        setupRequest: (request) => {
          const target = options.pick();
          return {
            ...request,
            headers: {
              ...request.headers,
              host: target.host,
              authorization: `Bearer ${target.token}`,
            },
          };
        },
      },
    ],
  });
  const cpu = process.cpuUsage(cpuBefore);
  const ok = result['2xx'];
  return {
    requests: result.requests.total,
    seconds: result.duration,
    requestsPerSecond: ok / result.duration,
    latencyMs: {
      mean: result.latency.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    loadGeneratorCpuMs: (cpu.user + cpu.system) / 1000,
  };
}
