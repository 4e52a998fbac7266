import { Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { RegistryModule } from '../registry.module';
import { ApiKeys } from './api-keys.service';
import { LoginThrottle } from './login-throttle.service';
import { OperatorAccounts } from './operator-accounts.service';
import { OperatorLogin } from './operator-login.service';
import { OperatorSessions } from './operator-sessions.service';
import { OPERATORS_REDIS } from './operators.tokens';

/**
 * Operator accounts, sessions, API keys and sign-in, for the API (controllers and the auth
 * guard are wired in app.module.ts) and the CLI (operators:create, operators:list).
 */
@Module({
  imports: [RegistryModule],
  providers: [
    {
      provide: OPERATORS_REDIS,
      inject: [CONTROL_PLANE_CONFIG],
      useFactory: (config: ControlPlaneConfig) => {
        // Connects on first use: the CLI, which signs nobody in, never opens it.
        const redis = new Redis(config.redisUrl.reveal(), {
          lazyConnect: true,
          maxRetriesPerRequest: 2,
        });
        redis.on('error', () => undefined); // surfaced by the failing command (a 500, fail closed)
        return redis;
      },
    },
    OperatorAccounts,
    OperatorSessions,
    ApiKeys,
    LoginThrottle,
    OperatorLogin,
  ],
  exports: [OperatorAccounts, OperatorSessions, ApiKeys, OperatorLogin],
})
export class OperatorsModule {}
