import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createMailTransport } from './mail-transport.factory';
import { MAIL_TRANSPORT, type MailOptions, type MailTransport } from './mail-transport.port';

export interface MailModuleOptions
  extends
    Pick<ModuleMetadata, 'imports'>,
    Pick<FactoryProvider<MailOptions>, 'inject' | 'useFactory'> {}

/** Provides MAIL_TRANSPORT app-wide; the options usually come from the app's config class. */
@Global()
@Module({})
export class MailModule implements OnApplicationShutdown {
  constructor(@Inject(MAIL_TRANSPORT) private readonly transport: MailTransport) {}

  static register(options: MailModuleOptions): DynamicModule {
    return {
      module: MailModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: MAIL_TRANSPORT,
          inject: options.inject ?? [],
          useFactory: async (...deps: unknown[]) =>
            createMailTransport(await options.useFactory(...deps)),
        },
      ],
      exports: [MAIL_TRANSPORT],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }
}
