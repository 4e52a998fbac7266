import { createServer, type Server } from 'node:net';
import { Client } from 'pg';
import { freePort } from '../src/free-port';
import { startPgBouncer, type PgBouncerHandle } from '../src/pgbouncer';

// jest ignores `testTimeout` inside a project entry, so the 5 s default applies; startPgBouncer
// alone may wait 10 s before reporting a useful error.
jest.setTimeout(30_000);

// Simulates losing the race between freePort() and pgbouncer's bind: the first port handed out
// is already taken by another listener.
jest.mock('../src/free-port', () => {
  const actual: typeof import('../src/free-port') = jest.requireActual('../src/free-port');
  return { freePort: jest.fn(actual.freePort) };
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Hang up at once: server.close() would otherwise wait for the readiness probe's socket.
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('startPgBouncer port race', () => {
  let squatter: Server | undefined;
  let bouncer: PgBouncerHandle | undefined;

  afterAll(async () => {
    await bouncer?.stop();
    await new Promise<void>((resolve) => (squatter ? squatter.close(() => resolve()) : resolve()));
  });

  it('retries on a fresh port when the first one is already in use', async () => {
    const mocked = jest.mocked(freePort);
    const taken = await jest
      .requireActual<typeof import('../src/free-port')>('../src/free-port')
      .freePort();
    squatter = await listen(taken);
    mocked.mockResolvedValueOnce(taken);

    bouncer = await startPgBouncer({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres' });

    expect(bouncer.port).not.toBe(taken);
    expect(mocked).toHaveBeenCalledTimes(2);
    const client = new Client({ connectionString: bouncer.url });
    await client.connect();
    try {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });
});
