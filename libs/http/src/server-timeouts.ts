import type { Server } from 'node:http';

/** Read by Node when the server starts listening; @types/node only types it as an option. */
type SweptServer = Server & { connectionsCheckingInterval: number };

/**
 * Slow clients cannot hold a connection open: the headers must arrive within the limit
 * (slowloris) and the whole request, body included, too — Node answers 408 and closes. Node
 * enforces both on a periodic sweep (every 30 s by default), so the sweep is tightened to keep
 * the limit meaningful. Call before `listen`: the sweep is set up on 'listening'.
 */
export function applyServerTimeouts(server: Server, requestTimeoutMs: number): void {
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = requestTimeoutMs;
  (server as SweptServer).connectionsCheckingInterval = Math.max(
    50,
    Math.min(1_000, Math.floor(requestTimeoutMs / 4)),
  );
}
