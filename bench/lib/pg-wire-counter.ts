/**
 * A counting TCP proxy in front of PostgreSQL, for the round-trip phase only (never during the
 * throughput runs). It forwards bytes unchanged and reads the wire protocol on both sides:
 *
 * - a *flight* is client data that arrives after the server last spoke on that connection, so
 *   with one request at a time, flights are round trips: pipelined messages written before any
 *   answer arrives belong to one flight;
 * - client messages are counted by type (Q simple query, P/B/E/S extended protocol), and the
 *   statements inside each simple query are counted (the bench's SQL has no `;` in literals);
 * - server CommandComplete (C) messages count the statements PostgreSQL actually ran.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;

export interface WireCounts {
  connections: number;
  flights: number;
  simpleQueries: number;
  simpleQueryStatements: number;
  parses: number;
  binds: number;
  executes: number;
  syncs: number;
  commandCompletes: number;
  readyForQuery: number;
  bytesToServer: number;
  bytesFromServer: number;
}

function zeroCounts(): WireCounts {
  return {
    connections: 0,
    flights: 0,
    simpleQueries: 0,
    simpleQueryStatements: 0,
    parses: 0,
    binds: 0,
    executes: 0,
    syncs: 0,
    commandCompletes: 0,
    readyForQuery: 0,
    bytesToServer: 0,
    bytesFromServer: 0,
  };
}

export function diffCounts(after: WireCounts, before: WireCounts): WireCounts {
  const diff = zeroCounts();
  for (const key of Object.keys(diff) as (keyof WireCounts)[]) diff[key] = after[key] - before[key];
  return diff;
}

/** Splits a byte stream into protocol messages; `startup` handles the untyped first ones. */
class MessageReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(
    private startup: boolean,
    private readonly onMessage: (type: string, body: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.startup) {
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const code = this.buffer.readInt32BE(4);
        this.buffer = this.buffer.subarray(length);
        if (code !== SSL_REQUEST_CODE && code !== GSSENC_REQUEST_CODE) this.startup = false;
        continue;
      }
      if (this.buffer.length < 5) return;
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < 1 + length) return;
      this.onMessage(String.fromCharCode(this.buffer[0]), this.buffer.subarray(5, 1 + length));
      this.buffer = this.buffer.subarray(1 + length);
    }
  }
}

export class PgWireCounter {
  private readonly counts = zeroCounts();
  private readonly sockets = new Set<Socket>();
  /** Added to every server-to-client chunk; see the class comment. */
  replyDelayMs = 0;
  private heldChunks = 0;
  private heldNs = 0n;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<PgWireCounter> {
    let counter: PgWireCounter | null = null;
    const server = createServer((client) => counter?.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    counter = new PgWireCounter(server, typeof address === 'object' && address ? address.port : 0);
    return counter;
  }

  /** Mean time server chunks actually spent in the proxy since the last call (timers overshoot). */
  takeMeanHoldMs(): number {
    const mean = this.heldChunks === 0 ? 0 : Number(this.heldNs / BigInt(this.heldChunks)) / 1e6;
    this.heldChunks = 0;
    this.heldNs = 0n;
    return mean;
  }

  snapshot(): WireCounts {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetHost: string, targetPort: number): void {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    this.counts.connections += 1;
    let serverSpokeLast = true;

    const fromClient = new MessageReader(true, (type, body) => {
      switch (type) {
        case 'Q': {
          this.counts.simpleQueries += 1;
          const text = body.toString('utf8', 0, Math.max(0, body.length - 1));
          this.counts.simpleQueryStatements += text.split(';').filter((s) => s.trim()).length;
          break;
        }
        case 'P':
          this.counts.parses += 1;
          break;
        case 'B':
          this.counts.binds += 1;
          break;
        case 'E':
          this.counts.executes += 1;
          break;
        case 'S':
          this.counts.syncs += 1;
          break;
      }
    });
    const fromServer = new MessageReader(false, (type) => {
      if (type === 'C') this.counts.commandCompletes += 1;
      if (type === 'Z') this.counts.readyForQuery += 1;
    });

    client.on('data', (chunk: Buffer) => {
      if (serverSpokeLast) this.counts.flights += 1;
      serverSpokeLast = false;
      this.counts.bytesToServer += chunk.length;
      fromClient.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      this.counts.bytesFromServer += chunk.length;
      fromServer.push(chunk);
      const held = process.hrtime.bigint();
      const deliver = () => {
        this.heldChunks += 1;
        this.heldNs += process.hrtime.bigint() - held;
        serverSpokeLast = true;
        client.write(chunk);
      };
      // Same delay for every chunk, so timers fire in arrival order.
      if (this.replyDelayMs > 0) setTimeout(deliver, this.replyDelayMs);
      else deliver();
    });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  }
}
