import type { StorageSettings } from '@platform/config';
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

/** The storage validated config asks for, or null when it is off (STORAGE_PROVIDER=none). */
export function objectStorageFromSettings(storage: StorageSettings): ObjectStorage | null {
  if (storage.provider === 'none') return null;
  return createObjectStorage({
    provider: 's3',
    bucket: storage.bucket,
    region: storage.region,
    ...(storage.endpoint && { endpoint: storage.endpoint }),
    forcePathStyle: storage.forcePathStyle,
    ...(storage.accessKeyId &&
      storage.secretAccessKey && {
        accessKeyId: storage.accessKeyId,
        secretAccessKey: storage.secretAccessKey.reveal(),
      }),
    createBucketIfMissing: storage.createBucketIfMissing,
  });
}
