import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { COMMON_CONFIG, type CommonConfig } from '@platform/config';
import { TenantEvents } from './tenant-events';

@Global()
@Module({
  providers: [
    {
      provide: TenantEvents,
      inject: [COMMON_CONFIG],
      useFactory: (config: CommonConfig) =>
        new TenantEvents({ redisUrl: config.redisUrl.reveal(), prefix: config.redisPrefix }),
    },
  ],
  exports: [TenantEvents],
})
export class TenantEventsModule implements OnApplicationShutdown {
  constructor(private readonly events: TenantEvents) {}

  async onApplicationShutdown(): Promise<void> {
    await this.events.close();
  }
}
