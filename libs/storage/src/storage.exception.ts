/**
 * A failure of the object store. The message starts with the system and the bucket
 * (`S3 (http://127.0.0.1:9000, bucket files): ...`, `S3 (aws, bucket files): ...`) so that a
 * log line or a failed provisioning step says at once which outside system broke.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
