/**
 * The noisy-neighbour bench's flooder, in its own process so that its load generator never
 * shares an event loop with the victim's latency measurement. Told what to do over IPC, it
 * runs autocannon as fast as its connections allow and reports the status counts.
 */
import autocannon from 'autocannon';

export interface FloodRequest {
  readonly type: 'flood';
  readonly url: string;
  readonly path: string;
  readonly host: string;
  readonly tokens: readonly string[];
  readonly connections: number;
  readonly seconds: number;
}

export interface FloodResult {
  readonly type: 'flooded';
  readonly requests: number;
  readonly seconds: number;
  readonly ok: number;
  readonly tooMany: number;
  /** Any other status. */
  readonly other: number;
  readonly errors: number;
  readonly timeouts: number;
}

async function flood(request: FloodRequest): Promise<FloodResult> {
  let next = 0;
  const result = await autocannon({
    url: request.url,
    connections: request.connections,
    pipelining: 1,
    duration: request.seconds,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        path: request.path,
        setupRequest: (req) => {
          const token = request.tokens[next++ % request.tokens.length];
          return {
            ...req,
            headers: { ...req.headers, host: request.host, authorization: `Bearer ${token}` },
          };
        },
      },
    ],
  });
  const tooMany = result.statusCodeStats?.['429']?.count ?? 0;
  return {
    type: 'flooded',
    requests: result.requests.total,
    seconds: result.duration,
    ok: result['2xx'],
    tooMany,
    other: result.non2xx - tooMany,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

process.on('message', (message: FloodRequest) => {
  if (message.type !== 'flood') return;
  flood(message).then(
    (result) => process.send?.(result),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
// The parent finished or died: nothing left to do.
process.on('disconnect', () => process.exit(0));
