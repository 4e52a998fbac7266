import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { TenantEvents } from '@platform/tenant-events';
import { AccessTokenService } from './access-token.service';
import { AuthController } from './auth.controller';
import { AUTH_TENANT_EVENTS } from './auth.tokens';
import { InviteAcceptanceService } from './invite-acceptance.service';
import { PasswordLoginService } from './password-login.service';
import { PasswordResetService } from './password-reset.service';
import { RefreshTokens } from './refresh-tokens.service';
import { SigningKeyCache } from './signing-key.cache';
import { SigningKeyDirectory } from './signing-key.directory';
import { TenantAuthGuard } from './tenant-auth.guard';

@Module({
  controllers: [AuthController],
  providers: [
    {
      provide: AUTH_TENANT_EVENTS,
      inject: [DATA_PLANE_CONFIG],
      useFactory: (config: DataPlaneConfig) =>
        new TenantEvents({ redisUrl: config.redisUrl.reveal(), prefix: config.redisPrefix }),
    },
    SigningKeyDirectory,
    SigningKeyCache,
    AccessTokenService,
    RefreshTokens,
    PasswordLoginService,
    InviteAcceptanceService,
    PasswordResetService,
    TenantAuthGuard,
  ],
  exports: [AccessTokenService, TenantAuthGuard],
})
export class AuthModule implements OnApplicationShutdown {
  constructor(@Inject(AUTH_TENANT_EVENTS) private readonly events: TenantEvents) {}

  async onApplicationShutdown(): Promise<void> {
    await this.events.close();
  }
}
