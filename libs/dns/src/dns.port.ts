export const DNS_PROVIDER = Symbol('DNS_PROVIDER');

/** The record types the platform writes: tenant hosts, custom-domain targets, ACME challenges. */
export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT';

export const DNS_RECORD_TYPES: readonly DnsRecordType[] = ['A', 'AAAA', 'CNAME', 'TXT'];

export interface DnsRecordSet {
  /** Fully qualified, no trailing dot, lower-case (`_acme-challenge.platform.test`). */
  name: string;
  type: DnsRecordType;
  /** TXT values unquoted; CNAME targets without the trailing dot. */
  values: string[];
  ttl: number;
}

/**
 * One authoritative zone at one DNS provider. Names passed in may carry a trailing dot or
 * upper-case letters; they must lie inside the configured zone.
 */
export interface DnsProvider {
  readonly name: 'powerdns' | 'route53';
  /** Creates or replaces the record set (idempotent: running it twice leaves one record set). */
  upsertRecordSet(record: DnsRecordSet): Promise<void>;
  /** Removes the record set; a missing one is not an error. */
  deleteRecordSet(name: string, type: DnsRecordType): Promise<void>;
  /** The record sets at a name (for tests, checks and "already done" detection). */
  listRecordSets(name: string): Promise<DnsRecordSet[]>;
  /**
   * ACME DNS-01: add / remove ONE value of the TXT set at `name`, keeping the other values.
   * Updates to one name are serialized inside the process: acme-client runs authorizations in
   * parallel, and the apex and the wildcard share `_acme-challenge.<domain>`, so both values
   * must coexist until the order completes.
   */
  addTxtValue(name: string, value: string, ttl?: number): Promise<void>;
  removeTxtValue(name: string, value: string): Promise<void>;
  /** Throws a DnsProviderError when the provider cannot be reached or the zone is missing. */
  check(): Promise<void>;
}
