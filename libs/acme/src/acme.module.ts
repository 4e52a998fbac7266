import {
  Global,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
} from '@nestjs/common';
import { CERTIFICATE_AUTHORITY, type AcmeOptions } from './acme.port';
import { createCertificateAuthority } from './certificate-authority.factory';

export type AcmeModuleOptions = Pick<ModuleMetadata, 'imports'> &
  Pick<FactoryProvider<AcmeOptions | Promise<AcmeOptions>>, 'inject' | 'useFactory'>;

/**
 * Provides `CERTIFICATE_AUTHORITY` everywhere. The options come from a factory because the
 * account key store lives on the platform registry and the settings in the app's config.
 */
@Global()
@Module({})
export class AcmeModule {
  static register(options: AcmeModuleOptions): DynamicModule {
    return {
      module: AcmeModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: CERTIFICATE_AUTHORITY,
          inject: options.inject ?? [],
          useFactory: async (...deps: unknown[]) =>
            createCertificateAuthority(await options.useFactory(...deps)),
        },
      ],
      exports: [CERTIFICATE_AUTHORITY],
    };
  }
}
