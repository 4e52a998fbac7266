import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The bearer secrets operators hold: session tokens (in a cookie) and API keys. Both are 256
 * random bits; the registry keeps only their SHA-256. A plain digest (no salt, no slow hash) is
 * enough for values that cannot be guessed, and it lets the registry find the row by digest.
 */

const API_KEY_FORMAT = /^tpk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The CSRF token of a session, derived from its token rather than stored: only a holder of the
 * session token (the HttpOnly cookie, which scripts on other sites cannot read) can know it, and
 * the server can recompute it on any request, e.g. for `GET /v1/auth/me` after a page reload.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('csrf').digest('base64url');
}

/** `tpk_<8 hex>_<43 base64url>`: the first part is the key's public prefix, shown in lists. */
export function newApiKey(): { key: string; prefix: string } {
  const prefix = `tpk_${randomBytes(4).toString('hex')}`;
  return { key: `${prefix}_${randomBytes(32).toString('base64url')}`, prefix };
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith('tpk_');
}

export function isWellFormedApiKey(value: string): boolean {
  return API_KEY_FORMAT.test(value);
}

/** Compares two strings in time that does not depend on where they differ (nor their length). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(given).digest(),
    createHash('sha256').update(expected).digest(),
  );
}
