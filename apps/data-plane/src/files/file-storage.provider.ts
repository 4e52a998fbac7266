import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { objectStorageFromSettings, type ObjectStorage } from '@platform/storage';

/** The bucket tenant files go to, or null when STORAGE_PROVIDER=none (the routes answer 503). */
export const FILE_STORAGE = Symbol('FILE_STORAGE');

export const fileStorageProvider: Provider = {
  provide: FILE_STORAGE,
  inject: [DATA_PLANE_CONFIG],
  useFactory: ({ storage }: DataPlaneConfig): ObjectStorage | null =>
    objectStorageFromSettings(storage),
};

/** Releases the S3 client's keep-alive sockets at shutdown. */
@Injectable()
export class FileStorageShutdown implements OnApplicationShutdown {
  constructor(@Inject(FILE_STORAGE) private readonly storage: ObjectStorage | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.storage?.close();
  }
}
