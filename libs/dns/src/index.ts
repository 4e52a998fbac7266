export { DNS_PROVIDER, type DnsProvider, type DnsRecordSet, type DnsRecordType } from './dns.port';
export { DnsProviderError } from './dns-provider.error';
export { createDnsProvider, type DnsOptions } from './dns-provider.factory';
export { DnsModule, type DnsModuleOptions } from './dns.module';
