import type { Request } from 'express';

/**
 * The TCP peer's address (`trust proxy` is off: X-Forwarded-For is not believed, so behind a
 * proxy this is the proxy). `::ffff:1.2.3.4` — IPv4 on a dual-stack socket — becomes `1.2.3.4`.
 */
export function clientAddress(request: Request): string {
  const address = request.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
