import { Client } from 'pg';
import {
  createTestDatabase,
  startPgBouncer,
  type PgBouncerHandle,
  type TestDatabase,
} from '../src';

// jest ignores `testTimeout` inside a project entry, so the 5 s default applies; startPgBouncer
// alone may wait 10 s before reporting a useful error.
jest.setTimeout(30_000);

const LEAKED = 'leaked_schema';

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

async function searchPath(client: Client): Promise<string> {
  const { rows } = await client.query<{ search_path: string }>('SHOW search_path');
  return rows[0].search_path;
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = await connect('postgres://postgres@127.0.0.1:5432/postgres');
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await admin.end();
  }
}

// Runs every cleanup step even when an earlier one throws, then reports the first failure.
async function cleanupAll(steps: Array<() => Promise<unknown>>): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
}

describe('PgBouncer transaction pooling (negative control for tenant isolation)', () => {
  let db: TestDatabase | undefined;
  let bouncer: PgBouncerHandle | undefined;
  let clientA: Client | undefined;
  let clientB: Client | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('pgbouncer');
    const direct = await connect(db.url);
    try {
      await direct.query(`CREATE SCHEMA ${LEAKED}`);
    } finally {
      await direct.end();
    }
    // One server connection: both clients are guaranteed to share it, making the leak certain.
    bouncer = await startPgBouncer({ databaseUrl: db.url, poolSize: 1, poolMode: 'transaction' });
    clientA = await connect(bouncer.url);
    clientB = await connect(bouncer.url);
  });

  afterAll(async () => {
    await cleanupAll([
      async () => clientA?.end(),
      async () => clientB?.end(),
      async () => bouncer?.stop(),
      async () => db?.drop(),
    ]);
  });

  const clients = (): [Client, Client] => {
    if (!clientA || !clientB) throw new Error('clients not connected');
    return [clientA, clientB];
  };

  it('leaks a session-level SET search_path to the next client', async () => {
    const [a, b] = clients();
    await a.query(`SET search_path TO ${LEAKED}`);
    try {
      expect(await searchPath(b)).toBe(LEAKED);
    } finally {
      // Undo on the shared server connection so the next test starts clean.
      await b.query('RESET search_path');
    }
  });

  it('does not leak SET LOCAL search_path beyond its transaction', async () => {
    const [a, b] = clients();
    expect(await searchPath(b)).not.toContain(LEAKED);

    await a.query('BEGIN');
    await a.query(`SET LOCAL search_path TO ${LEAKED}`);
    // Positive control: the setting did take effect inside the transaction.
    expect(await searchPath(a)).toBe(LEAKED);
    await a.query('COMMIT');

    expect(await searchPath(b)).not.toContain(LEAKED);
  });

  it('really shares one server connection between the two clients', async () => {
    const [a, b] = clients();
    const pid = async (c: Client): Promise<number> =>
      (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(await pid(a)).toBe(await pid(b));
  });
});

describe('startPgBouncer stop()', () => {
  it('stops accepting connections after stop()', async () => {
    const db = await createTestDatabase('pgbouncer_stop');
    try {
      const bouncer = await startPgBouncer({ databaseUrl: db.url });
      await bouncer.stop();
      const client = new Client({ connectionString: bouncer.url, connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined);
      await expect(client.connect()).rejects.toThrow();
    } finally {
      await db.drop();
    }
  });
});

describe('createTestDatabase', () => {
  it('creates a database and drop() removes it even with a connection still open', async () => {
    const db = await createTestDatabase('droptest');
    expect(db.name).toMatch(/^droptest_[0-9a-f]+$/);
    expect(await databaseExists(db.name)).toBe(true);

    const lingering = await connect(db.url);
    // drop() terminates this backend; without a listener the 'error' event would crash jest.
    lingering.on('error', () => undefined);
    try {
      await db.drop();
      expect(await databaseExists(db.name)).toBe(false);
      await db.drop(); // idempotent
    } finally {
      await lingering.end().catch(() => undefined);
    }
  });
});
