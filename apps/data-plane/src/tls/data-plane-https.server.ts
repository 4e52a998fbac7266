import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { SecureContext } from 'node:tls';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { answerUnmetExpectations, applyServerTimeouts, HTTP_SERVER_OPTIONS } from '@platform/http';
import { CertificateStore } from './certificate-store.service';
import { TlsMetrics } from './tls.metrics';

/**
 * The data plane's HTTPS listener: the same Fastify app as the HTTP one (so tenant resolution,
 * guards and filters are identical), with the certificate chosen per handshake by SNI. Starts
 * once the app's routes exist (application bootstrap) and stops before the database and Redis
 * connections close.
 *
 * No `key`/`cert` is given on purpose: the default context then holds no certificate, so a
 * handshake without SNI, or with a name the store refuses, fails instead of being answered
 * with some tenant's certificate.
 */
@Injectable()
export class DataPlaneHttpsServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DataPlaneHttpsServer.name);
  private server: Server | null = null;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly certificates: CertificateStore,
    private readonly metrics: TlsMetrics,
    @Inject(DATA_PLANE_CONFIG) private readonly config: DataPlaneConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const tls = this.config.tls;
    if (!tls) throw new Error('DataPlaneHttpsServer needs the data plane TLS settings');
    // Fastify's own request listener (its router, hooks and all): one app behind both servers.
    const handler = this.adapterHost.httpAdapter.getInstance<{ routing: RequestListener }>()
      .routing;
    const server = createServer(
      {
        ...HTTP_SERVER_OPTIONS,
        SNICallback: (serverName, done) => this.selectContext(serverName, done),
      },
      handler,
    );
    // The same slow-client limits as the plain-HTTP listener (applyHttpDefaults).
    applyServerTimeouts(server, this.config.http.requestTimeoutMs);
    answerUnmetExpectations(server);
    server.on('tlsClientError', (error: Error) => {
      this.metrics.handshakeFailures.inc();
      this.logger.debug({ reason: error.message }, 'TLS handshake failed');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(tls.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** The bound port (the configured one, or the one the OS picked for port 0); null when stopped. */
  get port(): number | null {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : null;
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections would hold close() open; requests in flight still finish.
      server.closeIdleConnections();
    });
  }

  private selectContext(
    serverName: string,
    done: (error: Error | null, context?: SecureContext) => void,
  ): void {
    this.certificates.secureContextFor(serverName).then(
      (context) => {
        this.metrics.sniLookups.inc({ result: context ? 'served' : 'unknown_name' });
        // No context: the handshake continues with the certificate-less default and fails.
        done(null, context ?? undefined);
      },
      (error: unknown) => {
        this.metrics.sniLookups.inc({ result: 'error' });
        this.logger.warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'no certificate could be loaded for a TLS handshake',
        );
        done(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }
}
