import type { DnsProvider } from '@platform/dns';
import type { ChallengeSolver } from './acme.port';

// Short enough that a stale value does not linger in resolvers after cleanup; Let's Encrypt
// queries the authoritative servers anyway.
const DEFAULT_TTL_SECONDS = 60;

/**
 * DNS-01 (RFC 8555 §8.4): a TXT record at `_acme-challenge.<name>` holding the key
 * authorization's digest. Values are added and removed one at a time rather than replacing the
 * set, because the apex and the wildcard authorizations of one order share the record name and
 * both values must be served until the CA has validated both; the DNS port serializes updates
 * to one name. `prepare` resolves when the DNS port has applied the change at the
 * authoritative servers.
 */
export class Dns01Solver implements ChallengeSolver {
  readonly type = 'dns-01';

  constructor(
    private readonly dns: DnsProvider,
    private readonly ttl: number = DEFAULT_TTL_SECONDS,
  ) {}

  async prepare(identifier: string, _token: string, keyAuthorization: string): Promise<void> {
    await this.dns.addTxtValue(challengeRecordName(identifier), keyAuthorization, this.ttl);
  }

  async cleanup(identifier: string, _token: string, keyAuthorization: string): Promise<void> {
    await this.dns.removeTxtValue(challengeRecordName(identifier), keyAuthorization);
  }
}

/** `*.example.com` and `example.com` both prove control through `_acme-challenge.example.com`. */
export function challengeRecordName(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, '').replace(/\.$/, '')}`;
}
