import type { Request, Response } from 'express';

const COOKIE_NAME = 'tp_session';

/**
 * Whether the session cookie is `Secure` (and named `__Host-...`): over HTTPS, and always in
 * production, where a TLS-terminating proxy stands in front (the app sees plain HTTP and does
 * not trust forwarded headers). Plain-HTTP development and tests get a cookie they can send.
 */
export function secureCookies(request: Request, nodeEnv: string): boolean {
  return nodeEnv === 'production' || request.secure;
}

/**
 * `__Host-` cookies must be Secure, host-only and for `/`, so a sibling subdomain (a tenant's
 * host under the same parent domain, say) cannot set or shadow them.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? `__Host-${COOKIE_NAME}` : COOKIE_NAME;
}

/** The first value of `name` in the Cookie header, or null. */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator < 0 || pair.slice(0, separator).trim() !== name) continue;
    const value = pair.slice(separator + 1).trim();
    return value.length > 0 ? value.replace(/^"(.*)"$/, '$1') : null;
  }
  return null;
}

/**
 * HttpOnly (scripts never see the token), SameSite=Strict (browsers do not send it on requests
 * other sites start), host-only, for the whole API. It lives as long as the session's absolute
 * lifetime; the idle timeout is enforced by the server.
 */
export function setSessionCookie(
  response: Response,
  secure: boolean,
  token: string,
  expiresAt: Date,
): void {
  response.cookie(sessionCookieName(secure), token, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: '/',
    maxAge: Math.max(0, expiresAt.getTime() - Date.now()),
  });
}

export function clearSessionCookie(response: Response, secure: boolean): void {
  response.clearCookie(sessionCookieName(secure), {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: '/',
  });
}
