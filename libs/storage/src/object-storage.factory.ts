import { S3ObjectStorage } from './drivers/s3.driver';
import type { ObjectStorage, StorageOptions } from './object-storage.port';

/** Picks the driver named by validated config. Creating it opens no connection. */
export function createObjectStorage(options: StorageOptions): ObjectStorage {
  switch (options.provider) {
    case 's3':
      return new S3ObjectStorage(options);
    default: {
      const unknown: never = options.provider;
      throw new Error(`unknown storage provider: ${String(unknown)}`);
    }
  }
}
