import type { IncomingMessage } from 'node:http';

/**
 * The host that selects a request's tenant: `Host`, or `X-Forwarded-Host` when the peer is a
 * configured trusted proxy. One function for the resolver's middleware and the gates ahead of
 * it, so that a header an untrusted client adds changes nothing anywhere (the gates used to step
 * aside for any request carrying X-Forwarded-Host, which let a client skip the concurrency cap).
 */
export function tenantHostOf(
  request: IncomingMessage,
  trustedProxies: ReadonlySet<string>,
): string | undefined {
  const forwarded = request.headers['x-forwarded-host'];
  if (typeof forwarded === 'string' && trustedProxies.has(request.socket.remoteAddress ?? '')) {
    return forwarded.split(',')[0];
  }
  return request.headers.host;
}
