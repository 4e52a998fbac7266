import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  createObjectStorage,
  OBJECT_STORAGE,
  StorageError,
  StorageModule,
  type ObjectStorage,
  type StorageOptions,
} from '@platform/storage';
import { freePort, startS3Server, type S3Server } from '@platform/testing';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const BUCKET = 'tenant-files';

/** Splits a buffer into uneven chunks so the upload really is a multi-chunk stream. */
function streamOf(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0, size = 1; i < data.length; i += size, size = (size * 7) % 65_521) {
    chunks.push(data.subarray(i, i + size));
  }
  return Readable.from(chunks);
}

describe('S3 storage driver against s3rver', () => {
  let s3: S3Server;
  let storage: ObjectStorage;
  let options: StorageOptions;

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: [BUCKET] });
    options = {
      provider: 's3',
      bucket: BUCKET,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      timeoutMs: 5_000,
    };
    storage = createObjectStorage(options);
  });

  afterAll(async () => {
    await storage?.close();
    await s3?.stop();
  });

  it('checks that the bucket answers', async () => {
    await expect(storage.check()).resolves.toBeUndefined();
  });

  it('stores a string with its content type and metadata', async () => {
    await storage.putObject('tenant-a/notes/hello.txt', 'héllo wörld', {
      contentType: 'text/plain; charset=utf-8',
      metadata: { uploadedBy: 'user-1' },
    });

    const head = await storage.headObject('tenant-a/notes/hello.txt');
    expect(head).toMatchObject({
      key: 'tenant-a/notes/hello.txt',
      size: Buffer.byteLength('héllo wörld'),
      contentType: 'text/plain; charset=utf-8',
      metadata: { uploadedby: 'user-1' },
    });
    expect(head?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await storage.getObject('tenant-a/notes/hello.txt'))?.toString('utf8')).toBe(
      'héllo wörld',
    );
  });

  it('stores a binary Buffer byte for byte', async () => {
    const data = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    await storage.putObject('tenant-a/bin/all-bytes', data);
    expect((await storage.getObject('tenant-a/bin/all-bytes'))?.equals(data)).toBe(true);
  });

  it('stores a stream with a known length byte for byte (no aws-chunked framing)', async () => {
    const data = randomBytes(300_000);
    await storage.putObject('tenant-a/stream/known', streamOf(data), {
      contentLength: data.length,
    });

    expect((await storage.headObject('tenant-a/stream/known'))?.size).toBe(data.length);
    const back = await storage.getObject('tenant-a/stream/known');
    expect(back?.length).toBe(data.length);
    expect(back?.equals(data)).toBe(true);
  });

  it('stores a stream of unknown length byte for byte', async () => {
    const data = randomBytes(200_000);
    await storage.putObject('tenant-a/stream/unknown', streamOf(data));
    expect((await storage.getObject('tenant-a/stream/unknown'))?.equals(data)).toBe(true);
  });

  it('negative control: the SDK default checksum settings corrupt a streamed upload on s3rver', async () => {
    // The trap the driver's WHEN_REQUIRED settings avoid: this client uses the SDK defaults.
    const client = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    try {
      const data = randomBytes(50_000);
      await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'control/default-checksums',
          Body: streamOf(data),
          ContentLength: data.length,
        }),
      );
      const got = await client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: 'control/default-checksums' }),
      );
      const back = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
      expect(back.equals(data)).toBe(false);
      expect(back.length).toBeGreaterThan(data.length);
    } finally {
      client.destroy();
    }
  });

  it('returns null for a missing object', async () => {
    await expect(storage.headObject('tenant-a/does/not/exist')).resolves.toBeNull();
    await expect(storage.getObject('tenant-a/does/not/exist')).resolves.toBeNull();
  });

  describe('prefixes as tenant boundaries', () => {
    const MANY = 1_100; // more than one ListObjectsV2 page (1,000 keys)

    beforeAll(async () => {
      const keys = Array.from({ length: MANY }, (_, i) => `t1/files/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((key) => storage.putObject(key, 'x')));
      }
      // t10/ starts with "t1" but is another tenant; t2/ is unrelated.
      await storage.putObject('t10/files/keep-me', 'other tenant');
      await storage.putObject('t2/files/keep-me-too', 'other tenant');
    });

    it('lists every key under a prefix across pages, and nothing outside it', async () => {
      const keys = await storage.listKeys('t1/');
      expect(keys).toHaveLength(MANY);
      expect(new Set(keys).size).toBe(MANY);
      expect(keys.every((k) => k.startsWith('t1/'))).toBe(true);
      expect(await storage.listKeys('t10/')).toEqual(['t10/files/keep-me']);
    });

    it('deletes only that prefix', async () => {
      await expect(storage.deletePrefix('t1/')).resolves.toBe(MANY);

      expect(await storage.listKeys('t1/')).toEqual([]);
      expect((await storage.getObject('t10/files/keep-me'))?.toString()).toBe('other tenant');
      expect((await storage.getObject('t2/files/keep-me-too'))?.toString()).toBe('other tenant');
      await expect(storage.deletePrefix('t1/')).resolves.toBe(0);
    });

    it('refuses an empty prefix (the whole bucket)', async () => {
      await expect(storage.deletePrefix('')).rejects.toThrow(StorageError);
      expect(await storage.listKeys('t2/')).toEqual(['t2/files/keep-me-too']);
    });
  });

  it('reports a missing bucket, and creates it when asked to', async () => {
    const missing = createObjectStorage({ ...options, bucket: 'not-there' });
    try {
      await expect(missing.check()).rejects.toThrow(
        `S3 (${s3.endpoint}, bucket not-there): HeadBucket failed: bucket does not exist`,
      );
      // Misconfiguration, not "no such file".
      await expect(missing.getObject('t1/a')).rejects.toThrow(
        /GetObject t1\/a failed: NoSuchBucket/,
      );
    } finally {
      await missing.close();
    }

    const created = createObjectStorage({
      ...options,
      bucket: 'made-on-demand',
      createBucketIfMissing: true,
    });
    try {
      await created.putObject('t1/a', 'a');
      await expect(created.check()).resolves.toBeUndefined();
      expect(await created.listKeys('')).toEqual(['t1/a']);
    } finally {
      await created.close();
    }
  });

  it('provides OBJECT_STORAGE through StorageModule and closes it on shutdown', async () => {
    const OPTIONS = Symbol('options');
    @Global()
    @Module({ providers: [{ provide: OPTIONS, useValue: options }], exports: [OPTIONS] })
    class OptionsModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        StorageModule.register({
          imports: [OptionsModule],
          inject: [OPTIONS],
          useFactory: async (injected: StorageOptions) => ({ ...injected, bucket: 'via-module' }),
        }),
      ],
    }).compile();
    const app = await moduleRef.init();
    const fromModule = app.get<ObjectStorage>(OBJECT_STORAGE);
    expect(fromModule.bucket).toBe('via-module');
    const close = jest.spyOn(fromModule, 'close');
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('names S3 and the endpoint when the server is unreachable', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const down = createObjectStorage({ ...options, endpoint, timeoutMs: 1_000 });
    try {
      const failure = await down.headObject('t1/a').catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StorageError);
      expect((failure as StorageError).message).toMatch(
        new RegExp(
          `^S3 \\(${endpoint}, bucket ${BUCKET}\\): HeadObject t1/a failed: .*ECONNREFUSED`,
        ),
      );
      await expect(down.check()).rejects.toThrow(`S3 (${endpoint}, bucket ${BUCKET})`);
    } finally {
      await down.close();
    }
  });
});
