import type { Route53Client } from '@aws-sdk/client-route-53';
import type { DnsProvider } from './dns.port';
import { PowerDnsDriver } from './drivers/powerdns.driver';
import { Route53Driver } from './drivers/route53.driver';

export type DnsOptions =
  | {
      provider: 'powerdns';
      apiUrl: string;
      apiKey: string;
      /** Default `localhost`. */
      serverId?: string;
      /** The zone the platform owns, e.g. `platform.test`. */
      zone: string;
      timeoutMs?: number;
    }
  | {
      provider: 'route53';
      hostedZoneId: string;
      region?: string;
      zone: string;
      /** Injectable for tests. */
      client?: Route53Client;
      /** Default true. */
      waitForSync?: boolean;
      maxWaitSeconds?: number;
    };

export function createDnsProvider(options: DnsOptions): DnsProvider {
  switch (options.provider) {
    case 'powerdns':
      return new PowerDnsDriver(options);
    case 'route53':
      return new Route53Driver(options);
    default: {
      const unknown: never = options;
      throw new Error(`unknown DNS provider ${JSON.stringify(unknown)}`);
    }
  }
}
