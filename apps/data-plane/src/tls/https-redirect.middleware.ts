import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import type { NextFunction } from '@platform/http';
import { normalizeHostname } from '@platform/tenancy';
import { TenantResolver } from '../tenant-resolution/tenant-resolver.service';
import { CertificateStore } from './certificate-store.service';
import { DataPlaneHttpsServer } from './data-plane-https.server';

/**
 * Paths answered over plain HTTP whatever the host: the CA fetches HTTP-01 proofs over HTTP
 * (RFC 8555 §8.3 — a redirect to a certificate not yet issued would fail the order), and
 * probes and scrapers talk to the replica, not to a tenant.
 */
const PLAIN_HTTP_PATHS = /^\/(?:\.well-known\/acme-challenge\/|health(?:\/|$)|metrics(?:\/|$))/;

/**
 * Plain HTTP to a tenant's host → 308 to the same URL over HTTPS (308, not 301: the method and
 * body are kept). Only where the TLS listener would complete the handshake — the host is a
 * tenant's (resolved as for any request) and a certificate is loaded for it — so a domain
 * whose certificate is missing stays reachable over HTTP rather than redirected into a failed
 * handshake. Unknown hosts are left to the usual 404.
 */
@Injectable()
export class HttpsRedirectMiddleware implements NestMiddleware {
  private readonly trustedProxies: ReadonlySet<string>;

  constructor(
    private readonly resolver: TenantResolver,
    private readonly certificates: CertificateStore,
    private readonly httpsServer: DataPlaneHttpsServer,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.trustedProxies = new Set(config.trustedProxies);
  }

  async use(request: IncomingMessage, response: ServerResponse, next: NextFunction): Promise<void> {
    const httpsPort = this.httpsServer.port;
    if (
      (request.socket as TLSSocket).encrypted ||
      httpsPort === null ||
      PLAIN_HTTP_PATHS.test(pathOf(request))
    ) {
      next();
      return;
    }
    const trustedPeer = this.trustedProxies.has(request.socket.remoteAddress ?? '');
    if (trustedPeer && firstValue(request.headers['x-forwarded-proto']) === 'https') {
      next(); // TLS was terminated by the proxy in front
      return;
    }
    const forwardedHost = trustedPeer ? firstValue(request.headers['x-forwarded-host']) : undefined;
    const hostname = normalizeHostname(forwardedHost ?? request.headers.host);
    try {
      if (
        !hostname ||
        !(await this.resolver.resolve(hostname)) ||
        !(await this.certificates.secureContextFor(hostname))
      ) {
        next();
        return;
      }
    } catch (error) {
      next(error);
      return;
    }
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    // The hostname is normalised (letters, digits, dots, hyphens): nothing can be injected.
    response.statusCode = 308;
    response.setHeader('Location', `https://${hostname}${port}${urlOf(request)}`);
    response.end();
  }
}

/** The URL as sent: `url` may be relative to where the middleware was mounted. */
function urlOf(request: IncomingMessage & { originalUrl?: string }): string {
  return request.originalUrl ?? request.url ?? '/';
}

function pathOf(request: IncomingMessage): string {
  const url = urlOf(request);
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0].trim();
}
