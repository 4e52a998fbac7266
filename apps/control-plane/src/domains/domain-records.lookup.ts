import { Resolver } from 'node:dns/promises';
import { Inject, Injectable } from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';

/** What DNS says about a name, as far as domain verification cares. */
export interface DomainRecords {
  readonly txt: string[];
  readonly cname: string[];
}

const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NXDOMAIN']);

/**
 * Reads TXT and CNAME records through the resolvers in CUSTOM_DOMAIN_DNS_SERVERS (the system's
 * when empty), so tests and staging can point verification at their own DNS server. A missing
 * name or record is an empty list; a resolver that fails is an error (retry later, do not fail
 * the domain).
 */
@Injectable()
export class DomainRecordsLookup {
  private readonly resolver: Resolver;

  constructor(@Inject(CONTROL_PLANE_CONFIG) config: ControlPlaneConfig) {
    this.resolver = new Resolver({ timeout: 3_000, tries: 2 });
    const servers = config.integrations.customDomains.dnsServers;
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  async read(txtName: string, hostname: string): Promise<DomainRecords> {
    const [txt, cname] = await Promise.all([
      this.orEmpty(
        this.resolver.resolveTxt(txtName).then((rows) => rows.map((parts) => parts.join(''))),
      ),
      this.orEmpty(this.resolver.resolveCname(hostname)),
    ]);
    return { txt, cname: cname.map((name) => name.toLowerCase().replace(/\.$/, '')) };
  }

  private async orEmpty(lookup: Promise<string[]>): Promise<string[]> {
    try {
      return await lookup;
    } catch (error) {
      // node:dns errors are not `instanceof Error` across realms (jest); read the code field.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && NOT_FOUND_CODES.has(code)) return [];
      throw error;
    }
  }
}
