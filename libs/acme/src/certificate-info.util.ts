import { X509Certificate } from 'node:crypto';

export interface CertificateInfo {
  /** The DNS names of the subjectAltName extension, in certificate order. */
  names: string[];
  notBefore: Date;
  notAfter: Date;
  /** Upper-case hex, as node:crypto prints it. */
  serialNumber: string;
}

// Node prints SAN entries comma-separated and JSON-quotes a value holding a comma or quote.
const DNS_ENTRY = /(?:^|, )DNS:("(?:[^"\\]|\\.)*"|[^,]*)/g;

/** Reads the leaf (first certificate) of a PEM chain. */
export function certificateInfo(pem: string): CertificateInfo {
  const leaf = new X509Certificate(pem);
  return {
    names: dnsNames(leaf),
    // validFromDate/validToDate only exist from Node 22; these strings are OpenSSL's GMT form.
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    serialNumber: leaf.serialNumber,
  };
}

function dnsNames(certificate: X509Certificate): string[] {
  const san = certificate.subjectAltName ?? '';
  return [...san.matchAll(DNS_ENTRY)].map(([, value]) =>
    value.startsWith('"') ? (JSON.parse(value) as string) : value,
  );
}
