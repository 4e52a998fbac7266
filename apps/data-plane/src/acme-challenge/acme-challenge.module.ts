import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisHttp01ChallengeStore } from '@platform/acme';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { AcmeChallengeController } from './acme-challenge.controller';
import { ACME_CHALLENGE_REDIS, HTTP01_CHALLENGE_STORE } from './acme-challenge.tokens';

/**
 * Serves `/.well-known/acme-challenge/<token>` from Redis, so the worker running an order and
 * the replica the CA happens to reach need not be the same process.
 */
@Module({
  controllers: [AcmeChallengeController],
  providers: [
    {
      provide: ACME_CHALLENGE_REDIS,
      inject: [DATA_PLANE_CONFIG],
      useFactory: (config: DataPlaneConfig) => {
        // Lazy: a replica that never sees a challenge never opens the connection. A lookup
        // while Redis is down fails after a couple of retries (a 500 the CA retries), it
        // does not hang the request.
        const redis = new Redis(config.redisUrl.reveal(), {
          lazyConnect: true,
          maxRetriesPerRequest: 2,
        });
        redis.on('error', () => undefined); // surfaced by the failed lookup itself
        return redis;
      },
    },
    {
      provide: HTTP01_CHALLENGE_STORE,
      inject: [ACME_CHALLENGE_REDIS, DATA_PLANE_CONFIG],
      useFactory: (redis: Redis, config: DataPlaneConfig) =>
        new RedisHttp01ChallengeStore(redis, config.redisPrefix),
    },
  ],
})
export class AcmeChallengeModule implements OnApplicationShutdown {
  constructor(@Inject(ACME_CHALLENGE_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // `disconnect` rather than `quit`: quitting a lazy client that never connected would
    // connect just to say goodbye.
    this.redis.disconnect();
  }
}
