import { domainToASCII } from 'node:url';

/**
 * Normalises a Host header (or a hostname typed by ops) to the form the registry stores:
 * lower-case, no port, no trailing dot, IDNs in punycode. Returns null for anything that is not
 * a plain DNS name, so that a strange header can never select a tenant by accident.
 */
export function normalizeHostname(raw: string | undefined | null): string | null {
  if (typeof raw !== 'string') return null;
  let host = raw.trim();
  if (host.length === 0 || host.length > 300) return null;
  // Bracketed IPv6 literal, with or without a port: never a tenant.
  if (host.startsWith('[')) return null;
  const colon = host.lastIndexOf(':');
  if (colon !== -1) {
    const port = host.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return null;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.includes('..') || /[\s/\\@?#%*]/.test(host)) return null;
  const ascii = domainToASCII(host.toLowerCase());
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  const validLabels = labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
  if (!validLabels) return null;
  if (labels.every((label) => /^\d+$/.test(label))) return null; // IPv4 literal
  return ascii;
}

/** The slug a platform subdomain names (`acme.example.com` → `acme`), or null. */
export function subdomainSlug(hostname: string, platformDomain: string): string | null {
  const suffix = `.${platformDomain}`;
  if (!hostname.endsWith(suffix)) return null;
  const label = hostname.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.') ? label : null;
}
