import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3ServerOptions {
  /** Buckets that exist as soon as the server answers. */
  buckets?: string[];
}

export interface S3Server {
  /** Path-style endpoint, e.g. `http://127.0.0.1:40123`. */
  endpoint: string;
  accessKeyId: 'S3RVER';
  secretAccessKey: 'S3RVER';
  region: 'us-east-1';
  /** Where s3rver keeps the objects; removed by `stop()`. */
  directory: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * Runs s3rver in this process on a port the kernel picks (port 0, so there is no race between
 * choosing a free port and binding it), storing objects in a fresh temporary directory.
 * Clients must use path-style addressing and the `S3RVER` credentials; see SPEC.md for the
 * checksum settings a streamed upload needs.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: HOST,
    port: 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  let address;
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }

  let stopped = false;
  return {
    endpoint: `http://${HOST}:${address.port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    directory,
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = server.close();
      // close() waits for open connections; SDK clients keep theirs alive, so cut them.
      server.httpServer?.closeAllConnections();
      await closed;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
