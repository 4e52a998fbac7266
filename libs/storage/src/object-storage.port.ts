import type { Readable } from 'node:stream';

export const OBJECT_STORAGE = Symbol('OBJECT_STORAGE');

export interface StoredObject {
  key: string;
  size: number;
  /** As the server sent it, quotes included (`"9b2c…"`). */
  etag: string;
  contentType?: string;
  /** User metadata (`x-amz-meta-*`); S3 lower-cases the keys. */
  metadata: Record<string, string>;
}

export interface PutObjectOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /**
   * Byte length of a stream body. With it the stream goes to S3 as is; without it the stream is
   * read into memory first (S3 refuses a PUT of unknown length), up to a cap.
   */
  contentLength?: number;
}

/**
 * Object storage for tenant files. Every tenant owns the prefix `{tenantId}/`; callers build
 * keys under that prefix and never list or delete outside it.
 */
export interface ObjectStorage {
  readonly name: 's3';
  readonly bucket: string;
  putObject(
    key: string,
    body: string | Buffer | Readable,
    options?: PutObjectOptions,
  ): Promise<void>;
  /** `null` when the object does not exist; any other failure throws `StorageError`. */
  headObject(key: string): Promise<StoredObject | null>;
  /** `null` when the object does not exist. */
  getObject(key: string): Promise<Buffer | null>;
  /** Deletes one object; deleting a key that does not exist is not an error. */
  deleteObject(key: string): Promise<void>;
  /** Every key under the prefix, across all result pages. */
  listKeys(prefix: string): Promise<string[]>;
  /** Deletes every object under a non-empty prefix; returns how many were deleted. */
  deletePrefix(prefix: string): Promise<number>;
  /** Throws `StorageError` unless the bucket answers (HeadBucket). For health checks. */
  check(): Promise<void>;
  /** Releases the HTTP connections; the storage is unusable afterwards. */
  close(): Promise<void>;
}

export interface StorageOptions {
  provider: 's3';
  bucket: string;
  region: string;
  /** For S3-compatible servers (MinIO, s3rver); unset means AWS. */
  endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`); most S3-compatible servers need it. */
  forcePathStyle?: boolean;
  /** Both or neither; unset means the SDK's default credential chain (env, profile, role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Creates the bucket on first use. A dev/test convenience: production buckets are provisioned. */
  createBucketIfMissing?: boolean;
  /** Connection and whole-request timeout per attempt; default 30 s. */
  timeoutMs?: number;
}
