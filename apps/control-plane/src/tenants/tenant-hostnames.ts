import { normalizeHostname } from '@platform/tenancy';

export type CustomHostnameProblem = 'invalid' | 'platform-domain';

/**
 * Checks a customer's own hostname: a plain DNS name with at least two labels, not the
 * platform's domain or one of its subdomains (those are assigned, never claimed).
 */
export function customHostnameProblem(
  raw: string,
  platformDomain: string,
): { hostname: string } | { problem: CustomHostnameProblem } {
  // A port is part of a Host header, never of a domain someone owns.
  const hostname = raw.includes(':') ? null : normalizeHostname(raw);
  if (!hostname || !hostname.includes('.')) {
    return { problem: 'invalid' };
  }
  if (hostname === platformDomain || hostname.endsWith(`.${platformDomain}`)) {
    return { problem: 'platform-domain' };
  }
  return { hostname };
}
