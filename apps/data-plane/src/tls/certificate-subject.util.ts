import { subdomainSlug } from '@platform/tenancy';

/**
 * Which certificate may answer a (normalised) SNI name: the platform wildcard for the apex and
 * single-label subdomains of the platform domain — what `*.<domain>` + `<domain>` covers — and
 * otherwise a certificate whose subject is the name itself, if a custom domain owns it.
 * Deeper platform names (`a.b.<domain>`) match no certificate at all: no wildcard covers
 * them, and they must not fall through to the custom-domain lookup.
 */
export type CertificateSubject =
  | { readonly kind: 'platform'; readonly subject: string }
  | { readonly kind: 'custom'; readonly subject: string };

export function certificateSubjectFor(
  hostname: string,
  platformDomain: string,
): CertificateSubject | null {
  if (hostname === platformDomain || subdomainSlug(hostname, platformDomain) !== null) {
    return { kind: 'platform', subject: platformWildcard(platformDomain) };
  }
  if (hostname.endsWith(`.${platformDomain}`)) return null;
  return { kind: 'custom', subject: hostname };
}

export function platformWildcard(platformDomain: string): string {
  return `*.${platformDomain}`;
}
