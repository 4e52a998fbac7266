/**
 * When a certificate is due: at two thirds of its lifetime, as Let's Encrypt recommends (30
 * days before expiry for its 90-day certificates), which leaves a third of the lifetime to
 * retry through an outage. Certificates without dates (still ordering) are due.
 */
export function isDueForRenewal(
  certificate: { notBefore: Date | null; notAfter: Date | null },
  now: Date = new Date(),
): boolean {
  const { notBefore, notAfter } = certificate;
  if (!notBefore || !notAfter) return true;
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return now.getTime() >= notBefore.getTime() + (lifetime * 2) / 3;
}
