/**
 * A small keep-alive HTTP client that can set any Host header (fetch cannot), for the parts of
 * the bench that need per-request checks rather than raw load: sanity checks, the sequential
 * round-trip phase and touching every tenant in the RSS phase.
 */
import { Agent, request as httpRequest } from 'node:http';

export interface SimpleResponse {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

export class HostClient {
  private readonly agent: Agent;
  private readonly port: number;

  constructor(baseUrl: string, maxSockets: number) {
    const url = new URL(baseUrl);
    if (url.hostname !== '127.0.0.1') throw new Error('bench traffic goes to 127.0.0.1 only');
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  get(path: string, host: string, token: string): Promise<SimpleResponse> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          hostname: '127.0.0.1',
          port: this.port,
          method: 'GET',
          path,
          headers: { host, authorization: `Bearer ${token}` },
          agent: this.agent,
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: Number(process.hrtime.bigint() - started) / 1e6,
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${path} on ${host}: timed out`)));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
