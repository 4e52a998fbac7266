import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import helmet from 'helmet';
import type { NodeMiddleware } from './node-response';

/**
 * What the JSON APIs may load or be framed by: nothing. A JSON answer rendered as a page (an
 * old browser sniffing, a proxy rewriting the type) can then neither run a script nor be
 * framed for clickjacking.
 */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * Swagger UI (`/docs`): its own scripts and styles (plus the inline `<style>` of its page and
 * style attributes set by its script), its bundled icons as data: URLs, and calls to this API.
 */
export const SWAGGER_UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** `/docs`, `/docs/swagger-ui.css`, `/docs-json`... (Nest's SwaggerModule.setup('docs')). */
const SWAGGER_UI_PATH = /^\/docs(?:[/?-]|$)/;

export interface SecurityHeadersOptions {
  /**
   * Peers whose `X-Forwarded-Proto: https` is believed (a TLS-terminating proxy), for HSTS. Any
   * other request counts as HTTPS only when its own socket is TLS.
   */
  readonly trustedProxies?: readonly string[];
}

/**
 * helmet's headers (nosniff, DENY framing, no referrer, same-origin opener and resource
 * policies...) and our CSP on every response of both apps. Pages that need a different policy (the
 * console, the welcome page) set their own `Content-Security-Policy` in their controller, which
 * runs later and replaces this one. HSTS is sent only on requests that really came over HTTPS:
 * on plain HTTP the header means nothing (RFC 6797 §7.2) and would only mislead a reader.
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): NodeMiddleware {
  const trustedProxies = new Set(options.trustedProxies ?? []);
  const common = helmet({
    contentSecurityPolicy: false,
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  const hsts = helmet.strictTransportSecurity({ maxAge: 31_536_000, includeSubDomains: true });
  const cameOverHttps = (request: IncomingMessage): boolean => {
    if ((request.socket as TLSSocket).encrypted) return true;
    if (!trustedProxies.has(request.socket.remoteAddress ?? '')) return false;
    const proto = request.headers['x-forwarded-proto'];
    return (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0].trim() === 'https';
  };
  return (request, response, next) => {
    common(request, response, () => {
      // Set as written (helmet's own CSP middleware would reformat it): one string to grep for.
      response.setHeader(
        'Content-Security-Policy',
        SWAGGER_UI_PATH.test(request.url ?? '')
          ? SWAGGER_UI_CONTENT_SECURITY_POLICY
          : API_CONTENT_SECURITY_POLICY,
      );
      if (cameOverHttps(request)) hsts(request, response, next);
      else next();
    });
  };
}
