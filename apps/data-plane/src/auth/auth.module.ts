import { Module } from '@nestjs/common';
import { AccessTokenService } from './access-token.service';
import { AuthController } from './auth.controller';
import { InviteAcceptanceService } from './invite-acceptance.service';
import { PasswordLoginService } from './password-login.service';
import { TenantAuthGuard } from './tenant-auth.guard';

@Module({
  controllers: [AuthController],
  providers: [AccessTokenService, PasswordLoginService, InviteAcceptanceService, TenantAuthGuard],
  exports: [AccessTokenService, TenantAuthGuard],
})
export class AuthModule {}
