/**
 * queryWithRelaxedCommit against a real PostgreSQL, on a pool of ONE connection so that what a
 * call leaves on its connection is what the next query meets: the relaxed setting holds for
 * its own transaction only, a write commits, and a failing statement keeps nothing and leaves
 * the connection usable. It goes through queryInOneBatch, as every tenant statement does, so
 * this also shows which failures keep the pooled connection and which replace it.
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import { queryWithRelaxedCommit } from '../src/relaxed-commit';

describe('queryWithRelaxedCommit (real PostgreSQL, one pooled connection)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let observer: Client;

  beforeAll(async () => {
    database = await createTestDatabase('relaxed_commit');
    dataSource = new DataSource({
      type: 'postgres',
      url: database.url,
      extra: { max: 1 },
    });
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
    observer = new Client({ connectionString: database.url });
    await observer.connect();
  });

  afterAll(async () => {
    await observer?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  const sessionState = async () =>
    (
      await dataSource.query<{ sync: string; open: boolean }[]>(
        `SELECT current_setting('synchronous_commit') AS sync,
                now() <> statement_timestamp() AS open`,
      )
    )[0];

  it('runs the statement with synchronous_commit off, for its own transaction only', async () => {
    const rows = await queryWithRelaxedCommit<{ sync: string }>(
      dataSource,
      `SELECT current_setting('synchronous_commit') AS sync`,
    );
    expect(rows).toEqual([{ sync: 'off' }]);
    expect(await sessionState()).toEqual({ sync: 'on', open: false });
  });

  it('commits a write that another connection then sees, and returns its rows', async () => {
    const rows = await queryWithRelaxedCommit<{ id: number }>(
      dataSource,
      'INSERT INTO notes (id, body) VALUES ($1, $2) RETURNING id',
      [1, 'kept'],
    );
    expect(rows).toEqual([{ id: 1 }]);
    const seen = await observer.query<{ body: string }>('SELECT body FROM notes WHERE id = 1');
    expect(seen.rows).toEqual([{ body: 'kept' }]);
  });

  it('keeps nothing of a failing statement and hands the connection back clean', async () => {
    await expect(
      queryWithRelaxedCommit(dataSource, 'INSERT INTO notes (id, body) VALUES ($1, NULL)', [2]),
    ).rejects.toThrow(/null value/);
    const seen = await observer.query('SELECT 1 FROM notes WHERE id = 2');
    expect(seen.rowCount).toBe(0);
    // The one pooled connection: no transaction left open, the server's own setting back.
    expect(await sessionState()).toEqual({ sync: 'on', open: false });
  });

  const backendPid = async (): Promise<number> =>
    (await dataSource.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid'))[0].pid;

  it('keeps the connection after an error PostgreSQL reported (it rolled back by itself)', async () => {
    const before = await backendPid();
    await expect(
      queryWithRelaxedCommit(dataSource, 'INSERT INTO notes (id, body) VALUES (1, $1)', ['dup']),
    ).rejects.toThrow(/duplicate key/);
    expect(await backendPid()).toBe(before);
    expect(await sessionState()).toEqual({ sync: 'on', open: false });
  });

  it('replaces the connection after an error of its own, and writes nothing', async () => {
    const before = await backendPid();
    const unserialisable = {
      toPostgres: () => {
        throw new Error('cannot serialise this value');
      },
    };
    await expect(
      queryWithRelaxedCommit(dataSource, 'INSERT INTO notes (id, body) VALUES ($1, $2)', [
        3,
        unserialisable,
      ]),
    ).rejects.toThrow(/cannot serialise/);
    // Where the batch stopped is not known: the connection was destroyed, the pool opened another.
    expect(await backendPid()).not.toBe(before);
    const seen = await observer.query('SELECT 1 FROM notes WHERE id = 3');
    expect(seen.rowCount).toBe(0);
    expect(await sessionState()).toEqual({ sync: 'on', open: false });
  });

  it('replaces the connection when PostgreSQL ends the session (FATAL)', async () => {
    const before = await backendPid();
    await expect(
      queryWithRelaxedCommit(dataSource, 'SELECT pg_terminate_backend(pg_backend_pid())'),
    ).rejects.toMatchObject({ severity: 'FATAL', code: '57P01' });
    expect(await backendPid()).not.toBe(before);
    expect(await sessionState()).toEqual({ sync: 'on', open: false });
  });
});
