import { Module } from '@nestjs/common';
import { PasswordResetsController } from '../password-resets/password-resets.controller';
import { PasswordResets } from '../password-resets/password-resets.service';
import { RegistryModule } from '../registry.module';
import { SigningKeysController } from './signing-keys.controller';
import { SigningKeysModule } from './signing-keys.module';
import { SigningKeysService } from './signing-keys.service';

/** The control plane's API for tenant tokens: signing keys (list, rotate) and password resets. */
@Module({
  imports: [RegistryModule, SigningKeysModule],
  controllers: [SigningKeysController, PasswordResetsController],
  providers: [SigningKeysService, PasswordResets],
})
export class TenantTokensApiModule {}
