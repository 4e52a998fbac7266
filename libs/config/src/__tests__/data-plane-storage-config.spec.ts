import { ConfigValidationError, loadDataPlaneConfig } from '../config.loader';

describe('data-plane file storage settings', () => {
  it('is off by default, with a 10 MiB file limit', () => {
    const config = loadDataPlaneConfig({});
    expect(config.storage).toEqual({ provider: 'none' });
    expect(config.fileMaxBytes).toBe(10 * 1024 * 1024);
  });

  it('reads the same S3 variables as the control plane', () => {
    const config = loadDataPlaneConfig({
      STORAGE_PROVIDER: 's3',
      S3_BUCKET: 'tenants',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'key',
      S3_SECRET_ACCESS_KEY: 'secret',
      FILE_MAX_BYTES: '4096',
    });
    expect(config.storage).toMatchObject({
      provider: 's3',
      bucket: 'tenants',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      accessKeyId: 'key',
    });
    expect(config.storage.provider === 's3' && config.storage.secretAccessKey?.reveal()).toBe(
      'secret',
    );
    expect(config.fileMaxBytes).toBe(4096);
  });

  it('names the missing bucket and an out-of-range file limit', () => {
    expect(() => loadDataPlaneConfig({ STORAGE_PROVIDER: 's3' })).toThrow(
      /S3_BUCKET: required when STORAGE_PROVIDER=s3/,
    );
    expect(() => loadDataPlaneConfig({ FILE_MAX_BYTES: String(65 * 1024 * 1024) })).toThrow(
      ConfigValidationError,
    );
    expect(() => loadDataPlaneConfig({ FILE_MAX_BYTES: '0' })).toThrow(/FILE_MAX_BYTES/);
  });
});
