import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { SigningKeyStore } from './signing-key.store';

/**
 * At start: a signing key for every tenant without one (databases from before per-tenant keys).
 * Runs in the API and the worker alike; being idempotent, concurrent runs create one key each.
 */
@Injectable()
export class SigningKeysBackfill implements OnApplicationBootstrap {
  constructor(private readonly store: SigningKeyStore) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.store.backfill();
  }
}
