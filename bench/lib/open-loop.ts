/**
 * An open-loop load: requests leave on a fixed schedule (rate per second), whether or not
 * earlier ones have been answered, and each latency is measured from the moment its request
 * was *due*, not from when it left. A server that stalls therefore shows the whole stall in
 * the percentiles (no coordinated omission), which a closed loop (or autocannon's per-second
 * rate buckets) would hide. Latencies are kept individually, in milliseconds with sub-ms
 * resolution.
 */
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface OpenLoopTarget {
  readonly host: string;
  readonly token: string;
}

export interface OpenLoopOptions {
  readonly url: string;
  readonly path: string;
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly pick: (index: number) => OpenLoopTarget;
}

export interface OpenLoopResult {
  readonly sent: number;
  /** Latency of every answered request, due time to last byte, in ms. */
  readonly latenciesMs: number[];
  /** Answers by status code. */
  readonly statuses: Record<number, number>;
  readonly errors: number;
  /** The first few error messages, to tell a refused connection from a timeout. */
  readonly errorSamples: string[];
  /** How late the generator itself sent requests at worst (its own event loop's lag). */
  readonly maxSendLagMs: number;
}

export class OpenLoopClient {
  private readonly agent: Agent;
  private readonly port: number;

  constructor(url: string) {
    const parsed = new URL(url);
    if (parsed.hostname !== '127.0.0.1') throw new Error('bench traffic goes to 127.0.0.1 only');
    this.port = Number(parsed.port);
    // Enough sockets that no request ever waits for one inside the client. Idle ones are
    // closed after 4 s, before the server's 5 s keep-alive timeout could close one under a
    // request; the most recently used is reused first, so few sit idle that long.
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 256,
      timeout: 4_000,
      scheduling: 'lifo',
    });
  }

  run(options: OpenLoopOptions): Promise<OpenLoopResult> {
    const total = Math.round(options.ratePerSecond * options.seconds);
    const intervalMs = 1000 / options.ratePerSecond;
    const latenciesMs: number[] = [];
    const statuses: Record<number, number> = {};
    let errors = 0;
    const errorSamples: string[] = [];
    let sent = 0;
    let answered = 0;
    let maxSendLagMs = 0;
    const start = performance.now();

    return new Promise((resolve) => {
      const finishOne = () => {
        answered += 1;
        if (answered === total) {
          resolve({ sent, latenciesMs, statuses, errors, errorSamples, maxSendLagMs });
        }
      };
      const failOne = (error: Error) => {
        errors += 1;
        if (errorSamples.length < 5) errorSamples.push(error.message);
        finishOne();
      };
      const fire = (index: number, dueAt: number) => {
        const target = options.pick(index);
        const req = httpRequest(
          {
            hostname: '127.0.0.1',
            port: this.port,
            method: 'GET',
            path: options.path,
            headers: { host: target.host, authorization: `Bearer ${target.token}` },
            agent: this.agent,
            timeout: 30_000,
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              latenciesMs.push(performance.now() - dueAt);
              const status = res.statusCode ?? 0;
              statuses[status] = (statuses[status] ?? 0) + 1;
              finishOne();
            });
            res.on('error', failOne);
          },
        );
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', failOne);
        req.end();
      };
      const tick = () => {
        const now = performance.now();
        while (sent < total && start + sent * intervalMs <= now) {
          const dueAt = start + sent * intervalMs;
          maxSendLagMs = Math.max(maxSendLagMs, now - dueAt);
          fire(sent, dueAt);
          sent += 1;
        }
        if (sent < total) {
          setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
        }
      };
      if (total === 0) resolve({ sent, latenciesMs, statuses, errors, errorSamples, maxSendLagMs });
      else tick();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Nearest-rank percentile (no interpolation) of unsorted values; 0 for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
