// The scheme is case-insensitive (RFC 9110, 11.1): `bearer` and `BEARER` are the same scheme.
const BEARER_TOKEN = /^Bearer ([A-Za-z0-9._-]{10,4096})$/i;

/** The token of an `Authorization: Bearer …` header, or null when there is none or it is malformed. */
export function bearerToken(header: string | undefined): string | null {
  const match = BEARER_TOKEN.exec(header ?? '');
  return match ? match[1] : null;
}
