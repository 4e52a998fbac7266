/**
 * Runs the open-loop load (open-loop.ts) in a process of its own, for benches whose own process
 * is heavy: a bench that built the control plane in-process carries a large heap, and V8's
 * memory reducer then runs full collections of 20-50 ms in it now and then. A load generator
 * sharing that event loop would send late and report its own pauses as the server's latency.
 * This process holds nothing but the generator, so its collections stay sub-millisecond.
 */
import { OpenLoopClient, type OpenLoopResult, type OpenLoopTarget } from './open-loop';

export interface OpenLoopRunRequest {
  readonly type: 'run';
  readonly url: string;
  readonly path: string;
  readonly ratePerSecond: number;
  readonly seconds: number;
  /** Requests go round-robin over these. */
  readonly targets: readonly OpenLoopTarget[];
}

export interface OpenLoopRunResult {
  readonly type: 'ran';
  readonly result: OpenLoopResult;
}

const clients = new Map<string, OpenLoopClient>();

function clientFor(url: string): OpenLoopClient {
  let client = clients.get(url);
  if (!client) {
    client = new OpenLoopClient(url);
    clients.set(url, client);
  }
  return client;
}

process.on('message', (message: OpenLoopRunRequest) => {
  if (message.type !== 'run') return;
  const { targets } = message;
  clientFor(message.url)
    .run({
      url: message.url,
      path: message.path,
      ratePerSecond: message.ratePerSecond,
      seconds: message.seconds,
      pick: (index) => targets[index % targets.length],
    })
    .then(
      (result) => process.send?.({ type: 'ran', result } satisfies OpenLoopRunResult),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
});
// The parent finished or died: close the sockets and go.
process.on('disconnect', () => {
  for (const client of clients.values()) client.close();
  process.exit(0);
});
