import type { AcmeOptions, CertificateAuthority } from './acme.port';
import { AcmeClientCertificateAuthority } from './drivers/acme-client.driver';

/**
 * The one driver is acme-client: Let's Encrypt and Pebble speak the same protocol, so the
 * directory URL is the only thing that differs between production, staging and tests.
 */
export function createCertificateAuthority(options: AcmeOptions): CertificateAuthority {
  return new AcmeClientCertificateAuthority(options);
}
