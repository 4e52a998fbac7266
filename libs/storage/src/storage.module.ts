import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createObjectStorage } from './object-storage.factory';
import { OBJECT_STORAGE, type ObjectStorage, type StorageOptions } from './object-storage.port';

export interface StorageModuleOptions
  extends
    Pick<ModuleMetadata, 'imports'>,
    Pick<FactoryProvider<StorageOptions>, 'inject' | 'useFactory'> {}

/** Provides OBJECT_STORAGE app-wide; the options usually come from the app's config class. */
@Global()
@Module({})
export class StorageModule implements OnApplicationShutdown {
  constructor(@Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage) {}

  static register(options: StorageModuleOptions): DynamicModule {
    return {
      module: StorageModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: OBJECT_STORAGE,
          inject: options.inject ?? [],
          useFactory: async (...deps: unknown[]) =>
            createObjectStorage(await options.useFactory(...deps)),
        },
      ],
      exports: [OBJECT_STORAGE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.storage.close();
  }
}
