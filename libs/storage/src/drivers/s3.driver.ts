import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type {
  ObjectStorage,
  PutObjectOptions,
  StorageOptions,
  StoredObject,
} from '../object-storage.port';
import { StorageError } from '../storage.exception';

const DEFAULT_TIMEOUT_MS = 30_000;
/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH = 1_000;
/**
 * A stream without a known length is read into memory before the PUT: S3 refuses a PUT without
 * Content-Length, and @aws-sdk/lib-storage (multipart upload) is not a dependency. Tenant files
 * here are small; past this cap the caller must pass `contentLength` (a single PUT takes up to
 * 5 GiB) rather than have a worker hold the whole body in memory.
 */
export const MAX_BUFFERED_UPLOAD_BYTES = 64 * 1024 * 1024;

/**
 * The S3 port on @aws-sdk/client-s3 v3, for AWS and S3-compatible servers.
 *
 * Checksums are only computed/validated when an operation requires them (DeleteObjects). The
 * SDK's default since 3.729 frames streamed bodies with aws-chunked encoding and a trailing
 * CRC; servers that do not implement it (s3rver, older MinIO and Ceph) store the framing as
 * the object's bytes and still answer 200 — silent corruption (see SPEC.md, local servers).
 */
export class S3ObjectStorage implements ObjectStorage {
  readonly name = 's3';
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly system: string;
  private readonly createBucketIfMissing: boolean;
  private bucketReady: Promise<void> | undefined;

  constructor(options: StorageOptions) {
    if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
      throw new StorageError(
        `${describeSystem(options)}: accessKeyId and secretAccessKey go together`,
      );
    }
    this.bucket = options.bucket;
    this.system = describeSystem(options);
    this.createBucketIfMissing = options.createBucketIfMissing ?? false;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const config: S3ClientConfig = {
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: timeoutMs,
        requestTimeout: timeoutMs,
        // Without it a breached requestTimeout is only a logged warning.
        throwOnRequestTimeout: true,
      },
    };
    // Only explicit keys override the SDK's default chain (env, shared profile, instance role).
    if (options.accessKeyId !== undefined && options.secretAccessKey !== undefined) {
      config.credentials = {
        accessKeyId: options.accessKeyId,
        secretAccessKey: options.secretAccessKey,
      };
    }
    this.client = new S3Client(config);
  }

  async putObject(
    key: string,
    body: string | Buffer | Readable,
    options: PutObjectOptions = {},
  ): Promise<void> {
    await this.run(`PutObject ${key}`, async () => {
      let payload: Buffer | Readable;
      let contentLength: number;
      if (typeof body === 'string') {
        payload = Buffer.from(body, 'utf8');
        contentLength = payload.length;
      } else if (Buffer.isBuffer(body)) {
        payload = body;
        contentLength = body.length;
      } else if (options.contentLength !== undefined) {
        payload = body;
        contentLength = options.contentLength;
      } else {
        payload = await readAll(body, MAX_BUFFERED_UPLOAD_BYTES);
        contentLength = payload.length;
      }
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: payload,
          ContentLength: contentLength,
          ContentType: options.contentType,
          Metadata: options.metadata,
        }),
      );
    });
  }

  async headObject(key: string): Promise<StoredObject | null> {
    return this.run(`HeadObject ${key}`, async () => {
      try {
        const head = await this.client.send(
          new HeadObjectCommand({ Bucket: this.bucket, Key: key }),
        );
        return {
          key,
          size: head.ContentLength ?? 0,
          etag: head.ETag ?? '',
          contentType: head.ContentType,
          metadata: head.Metadata ?? {},
        };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    });
  }

  async getObject(key: string): Promise<Buffer | null> {
    return this.run(`GetObject ${key}`, async () => {
      try {
        const object = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key }),
        );
        if (object.Body === undefined) return Buffer.alloc(0);
        return Buffer.from(await object.Body.transformToByteArray());
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    });
  }

  async deleteObject(key: string): Promise<void> {
    await this.run(`DeleteObject ${key}`, async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    });
  }

  async listKeys(prefix: string): Promise<string[]> {
    return this.run(`ListObjects ${prefix}`, async () => {
      const keys: string[] = [];
      for await (const page of this.pages(prefix)) keys.push(...page);
      return keys;
    });
  }

  async deletePrefix(prefix: string): Promise<number> {
    // An empty prefix is the whole bucket, i.e. every tenant's files.
    if (prefix === '') {
      throw new StorageError(`${this.system}: refusing to delete with an empty prefix`);
    }
    return this.run(`DeleteObjects ${prefix}`, async () => {
      let deleted = 0;
      // Page by page, so a tenant with millions of objects never sits in memory at once. The
      // next page starts after the last key listed, so deleting this page does not shift it.
      for await (const page of this.pages(prefix)) {
        for (let i = 0; i < page.length; i += DELETE_BATCH) {
          const batch = page.slice(i, i + DELETE_BATCH);
          const result = await this.client.send(
            new DeleteObjectsCommand({
              Bucket: this.bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          );
          const errors = result.Errors ?? [];
          if (errors.length > 0) {
            const first = errors[0];
            throw new Error(
              `${errors.length} of ${batch.length} keys not deleted, e.g. ${first.Key}: ${first.Code} ${first.Message}`,
            );
          }
          deleted += batch.length;
        }
      }
      return deleted;
    });
  }

  async check(): Promise<void> {
    await this.run('HeadBucket', async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      } catch (err) {
        if (isNotFound(err)) throw new Error('bucket does not exist');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /**
   * Pages through a prefix with ListObjects (v1) and Marker = the last key seen. Without a
   * delimiter that is what ListObjectsV2 does, and AWS keeps v1 for compatibility; v2 is not
   * used because s3rver 3.7 makes its continuation tokens with DES, which OpenSSL 3 (Node >= 17)
   * no longer offers, so any truncated v2 listing answers 500 there.
   */
  private async *pages(prefix: string): AsyncGenerator<string[]> {
    let marker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListObjectsCommand({ Bucket: this.bucket, Prefix: prefix, Marker: marker }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
      if (keys.length > 0) yield keys;
      if (!page.IsTruncated || keys.length === 0) return;
      marker = keys[keys.length - 1];
    }
  }

  /** Runs one operation, wrapping any failure in a StorageError that names S3 and the bucket. */
  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      if (this.createBucketIfMissing) await this.ensureBucket();
      return await fn();
    } catch (err) {
      if (err instanceof StorageError) throw err;
      throw new StorageError(`${this.system}: ${operation} failed: ${describeCause(err)}`, {
        cause: err,
      });
    }
  }

  private ensureBucket(): Promise<void> {
    this.bucketReady ??= this.createBucket().catch((err: unknown) => {
      // Let the next call try again (the server may just not be up yet).
      this.bucketReady = undefined;
      throw new StorageError(`${this.system}: CreateBucket failed: ${describeCause(err)}`, {
        cause: err,
      });
    });
    return this.bucketReady;
  }

  private async createBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      // Another process created it between our HeadBucket and CreateBucket.
      if (err instanceof S3ServiceException && err.name === 'BucketAlreadyOwnedByYou') return;
      throw err;
    }
  }
}

function describeSystem(options: StorageOptions): string {
  return `S3 (${options.endpoint === undefined ? 'aws' : redactUrl(options.endpoint)}, bucket ${options.bucket})`;
}

/** An endpoint URL could carry user:password; keep it out of messages. */
function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username === '' && url.password === '') return raw;
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return raw;
  }
}

/**
 * A 404 about the object, not the bucket: a missing bucket is misconfiguration and must fail
 * loudly rather than read as "no such file". HEAD answers carry no error body, so for
 * headObject a missing bucket is indistinguishable and also reads as 404; check() tells them
 * apart.
 */
function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.$metadata.httpStatusCode === 404 && err.name !== 'NoSuchBucket';
}

function describeCause(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    // HEAD answers have no body, so the SDK's message is often just the status name.
    const detail = err.message && err.message !== err.name ? `: ${err.message}` : '';
    return `${err.name}${status === undefined ? '' : ` (HTTP ${status})`}${detail}`;
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // Node reports a refused dual-stack connect as an AggregateError with an empty message.
    if (err.message === '' && err instanceof AggregateError && err.errors.length > 0) {
      return describeCause(err.errors[0]);
    }
    return code !== undefined && !err.message.includes(code)
      ? `${code}: ${err.message}`
      : err.message;
  }
  return String(err);
}

async function readAll(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new Error(
        `stream body exceeds ${maxBytes} bytes without a contentLength; pass contentLength to stream it`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}
