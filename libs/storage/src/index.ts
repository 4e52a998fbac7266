export { MAX_BUFFERED_UPLOAD_BYTES } from './drivers/s3.driver';
export { createObjectStorage, objectStorageFromSettings } from './object-storage.factory';
export {
  OBJECT_STORAGE,
  type ObjectStorage,
  type PutObjectOptions,
  type StorageOptions,
  type StoredObject,
} from './object-storage.port';
export { StorageError } from './storage.exception';
export { StorageModule, type StorageModuleOptions } from './storage.module';
