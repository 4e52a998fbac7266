import {
  Global,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
} from '@nestjs/common';
import { createDnsProvider, type DnsOptions } from './dns-provider.factory';
import { DNS_PROVIDER } from './dns.port';

export interface DnsModuleOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  /** Maps the app's validated config to driver options (libs/config owns the env names). */
  useFactory: (...args: never[]) => DnsOptions | Promise<DnsOptions>;
}

/** Provides DNS_PROVIDER everywhere; the driver is chosen by `DnsOptions.provider`. */
@Global()
@Module({})
export class DnsModule {
  static register(options: DnsModuleOptions): DynamicModule {
    return {
      module: DnsModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: DNS_PROVIDER,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) =>
            createDnsProvider(await options.useFactory(...args)),
        },
      ],
      exports: [DNS_PROVIDER],
    };
  }
}
