import { Global, Module, type DynamicModule } from '@nestjs/common';
import { COMMON_CONFIG } from './config.tokens';
import type { CommonConfig } from './config.loader';

/** Makes an app's validated config injectable, under its own token and as the shared part. */
@Global()
@Module({})
export class PlatformConfigModule {
  static forRoot(token: symbol, config: CommonConfig): DynamicModule {
    return {
      module: PlatformConfigModule,
      providers: [
        { provide: token, useValue: config },
        { provide: COMMON_CONFIG, useValue: config },
      ],
      exports: [token, COMMON_CONFIG],
    };
  }
}
