import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry.module';
import { SigningKeyStore } from './signing-key.store';
import { SigningKeysBackfill } from './signing-keys-backfill.service';

/** The key store (onboarding's activate step, rotation) and the start-up backfill. */
@Module({
  imports: [RegistryModule],
  providers: [SigningKeyStore, SigningKeysBackfill],
  exports: [SigningKeyStore],
})
export class SigningKeysModule {}
