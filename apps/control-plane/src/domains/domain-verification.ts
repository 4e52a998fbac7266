import type { DomainRecords } from './domain-records.lookup';

export type VerificationOutcome =
  { readonly verified: true } | { readonly verified: false; readonly reason: string };

export interface ExpectedRecords {
  readonly txtName: string;
  readonly txtValue: string;
  readonly hostname: string;
  readonly cnameTarget: string;
}

/**
 * Ownership (the TXT token) and routing (the CNAME to the tenant's platform hostname) are both
 * required: the token proves the customer controls the zone, the CNAME is what makes the CA's
 * HTTP-01 request, and the users, reach the data plane. The reason names what is wrong.
 */
export function judgeDomainRecords(
  records: DomainRecords,
  expected: ExpectedRecords,
): VerificationOutcome {
  if (records.txt.length === 0) {
    return { verified: false, reason: `TXT record missing at ${expected.txtName}` };
  }
  if (!records.txt.includes(expected.txtValue)) {
    return {
      verified: false,
      reason: `TXT record at ${expected.txtName} has the wrong value (expected the domain's verification token)`,
    };
  }
  if (records.cname.length === 0) {
    return {
      verified: false,
      reason: `CNAME record missing at ${expected.hostname} (expected ${expected.cnameTarget})`,
    };
  }
  if (!records.cname.includes(expected.cnameTarget)) {
    return {
      verified: false,
      reason: `CNAME at ${expected.hostname} points to ${records.cname.join(', ')}, not ${expected.cnameTarget}`,
    };
  }
  return { verified: true };
}
