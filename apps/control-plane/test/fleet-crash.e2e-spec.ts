/**
 * A worker SIGKILLed in the middle of a fleet migration run (SPEC.md "Crash safety", "the runner
 * records each tenant's outcome and resumes"): its claimer jobs move to a second worker once
 * their Bull lock lapses, the tenants it held are claimed again, and every schema ends at the
 * target with its migration applied exactly once.
 *
 * A run over this fleet takes well under a second, too short to kill a worker at a chosen
 * point by polling alone. So the test holds each schema's migration advisory lock (the one the
 * migrator takes, as a second runner would) for every tenth tenant past the first quarter: each
 * claimer then migrates part of a batch and waits, with the rest of its batch claimed but not
 * recorded, which is the worst moment to die.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';
import {
  archivedAtColumns,
  createFleet,
  getRun,
  historyRows,
  killHard,
  migrateFleet,
  runRows,
  spawnWorker,
  startRun,
  versionsBySchema,
  waitForRun,
  type FleetTenant,
} from './fleet-helpers';

const FLEET_SIZE = 160;
const CONCURRENCY = 4;
const BATCH_SIZE = 10; // the executor's claim size
/** First held tenant: after the first quarter of the fleet (4 claimers × 1 batch). */
const FIRST_HELD = CONCURRENCY * BATCH_SIZE + BATCH_SIZE / 2;

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

describe('fleet migration run survives a worker killed mid-run', () => {
  let platform: RunningPlatform;
  let db: Client;
  let locks: Client;
  let fleet: FleetTenant[];
  const workers: { child: ChildProcess; output: () => string }[] = [];

  const startWorker = () => {
    const worker = spawnWorker({
      ...process.env,
      DATABASE_URL: platform.database.url,
      REDIS_PREFIX: platform.redisPrefix,
      PLATFORM_DOMAIN: 'platform.test',
      PLATFORM_ADMIN_TOKEN: platform.adminToken,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      WORKER_PORT: '0',
      QUEUE_LOCK_DURATION_MS: '2000',
      DATABASE_POOL_SIZE: '10',
      // Claimers wait on the locks this test holds instead of failing those tenants.
      MIGRATION_LOCK_TIMEOUT_MS: '120000',
    });
    workers.push(worker);
    return worker;
  };

  const holdLocks = async (tenants: readonly FleetTenant[]) => {
    for (const tenant of tenants) {
      await locks.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
        `tenant-migrate:${tenant.schema}`,
      ]);
    }
  };
  /** Every tenth tenant past the first quarter of the fleet. */
  const heldTenants = () =>
    fleet.filter((_, index) => index >= FIRST_HELD && (index - FIRST_HELD) % BATCH_SIZE === 0);
  const blockedMigrations = async () =>
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
      )
    ).rows[0].n;
  /**
   * A killed worker's backends stay blocked on the held locks (PostgreSQL notices the closed
   * socket only when it next writes); end them, as TCP keepalive eventually would.
   */
  const endOrphanedBackends = () =>
    db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
    );

  beforeAll(async () => {
    platform = await startPlatform({
      withoutWorker: true,
      controlPlaneEnv: { QUEUE_LOCK_DURATION_MS: '2000' },
    });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    locks = new Client({ connectionString: platform.database.url });
    await locks.connect();
    startWorker();
    fleet = await createFleet(platform, db, `fc${randomBytes(3).toString('hex')}`, FLEET_SIZE, {
      timeoutMs: 100_000,
    });
  }, 180_000);

  afterAll(async () => {
    await locks?.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    for (const worker of workers) await killHard(worker.child);
    await locks?.end().catch(() => undefined);
    await db?.end();
    await platform?.stop();
  });

  it('finishes the run on a second worker, reclaiming what the first held, once each', async () => {
    const rollback = await migrateFleet(platform, 3, CONCURRENCY);
    expect(rollback.counts.succeeded).toBe(FLEET_SIZE);
    const schemas = fleet.map((tenant) => tenant.schema);
    const beforeRun = await versionsBySchema(db, schemas);
    expect([...beforeRun.values()].filter((v) => v.join() !== '1,2,3')).toEqual([]);

    await holdLocks(heldTenants());

    const started = await startRun(platform, { targetVersion: 4, concurrency: CONCURRENCY });
    // Every claimer is stuck on a held tenant: a quarter done, four batches in flight, and four
    // migrations waiting in PostgreSQL for a held lock.
    let stuck = await getRun(platform, started.id);
    await waitFor(async () => {
      stuck = await getRun(platform, started.id);
      return (
        stuck.status !== 'running' ||
        (stuck.counts.running === CONCURRENCY * BATCH_SIZE &&
          (await blockedMigrations()) === CONCURRENCY)
      );
    });
    expect(stuck.status).toBe('running');
    expect(stuck.counts.succeeded).toBeGreaterThanOrEqual(FLEET_SIZE / 4);

    const atKill = await runRows(db, started.id);
    const killedAt = new Date();
    await killHard(workers[0].child);
    const heldAtKill = [...atKill.values()].filter((row) => row.status === 'running');
    expect(heldAtKill).toHaveLength(CONCURRENCY * BATCH_SIZE);
    const versionsAtKill = await versionsBySchema(db, schemas);
    const migratedButUnrecorded = heldAtKill.filter(
      (row) => versionsAtKill.get(fleet.find((t) => t.id === row.tenant_id)!.schema)?.length === 4,
    );

    // Nobody works on the run now: it stays running, with the dead worker's claims open.
    await new Promise((done) => setTimeout(done, 3000));
    const orphaned = await getRun(platform, started.id);
    expect(orphaned.status).toBe('running');
    expect(orphaned.counts).toMatchObject({
      running: CONCURRENCY * BATCH_SIZE,
      succeeded: stuck.counts.succeeded,
    });
    expect(orphaned.counts.succeeded).toBeLessThan(FLEET_SIZE);

    await locks.query('SELECT pg_advisory_unlock_all()');
    startWorker();
    const finished = await waitForRun(platform, started.id, { timeoutMs: 90_000 });

    expect(finished).toMatchObject({
      status: 'completed',
      counts: { pending: 0, running: 0, succeeded: FLEET_SIZE, failed: 0, skipped: 0 },
    });
    // Each schema's own truth: at 4, the v4 row and the column once each.
    const after = await versionsBySchema(db, schemas);
    expect([...after.values()].filter((v) => v.join() !== '1,2,3,4')).toEqual([]);
    const columns = await archivedAtColumns(db);
    expect(fleet.filter((tenant) => columns.get(tenant.schema) !== 1)).toEqual([]);
    const v4Rows = (await historyRows(db, schemas)).filter((row) => row.version === 4);
    expect(v4Rows).toHaveLength(FLEET_SIZE);
    const appliedAt = new Map(v4Rows.map((row) => [row.schema, row.applied_at.getTime()]));

    const final = await runRows(db, started.id);
    expect(final.size).toBe(FLEET_SIZE);
    expect([...final.values()].filter((row) => row.status !== 'succeeded')).toEqual([]);
    const reclaimed = new Set(heldAtKill.map((row) => row.tenant_id));
    const attemptsOff = [...final.values()].filter(
      (row) => row.attempts !== (reclaimed.has(row.tenant_id) ? 2 : 1),
    );
    expect(attemptsOff).toEqual([]);
    // Schemas the dead worker had already migrated were not migrated again: the reclaim found
    // them at 4 (from_version 4) and their v4 row predates the kill.
    expect(migratedButUnrecorded.length).toBeGreaterThan(0);
    for (const row of migratedButUnrecorded) {
      const tenant = fleet.find((t) => t.id === row.tenant_id)!;
      expect(final.get(row.tenant_id)).toMatchObject({ from_version: 4, to_version: 4 });
      expect(appliedAt.get(tenant.schema)).toBeLessThan(killedAt.getTime());
    }
    const registry = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM platform.tenants
        WHERE id = ANY($1::uuid[]) AND template_version = 4`,
      [fleet.map((tenant) => tenant.id)],
    );
    expect(registry.rows[0].n).toBe(FLEET_SIZE);
  });

  it("still finishes when the worker that took over a dead worker's claims dies too", async () => {
    // Independent of how the previous test ended: no held locks, no run left, one live worker.
    await locks.query('SELECT pg_advisory_unlock_all()');
    const { rows: leftOver } = await db.query<{ id: string }>(
      `SELECT id FROM platform.migration_runs WHERE status = 'running'`,
    );
    for (const { id } of leftOver) {
      await platform
        .api()
        .post(`/v1/migration-runs/${id}/cancel`)
        .set('Authorization', `Bearer ${platform.adminToken}`);
    }
    const last = workers[workers.length - 1];
    if (last.child.exitCode !== null || last.child.signalCode !== null) startWorker();
    await migrateFleet(platform, 3, CONCURRENCY);
    await holdLocks(heldTenants());
    const started = await startRun(platform, { targetVersion: 4, concurrency: CONCURRENCY });
    const claimsHeld = (attempts: number) => async () => {
      const rows = [...(await runRows(db, started.id)).values()];
      const held = rows.filter((row) => row.status === 'running' && row.attempts === attempts);
      return (
        held.length === CONCURRENCY * BATCH_SIZE && (await blockedMigrations()) === CONCURRENCY
      );
    };
    await waitFor(claimsHeld(1));
    await killHard(workers[workers.length - 1].child);
    await endOrphanedBackends();

    // The next worker re-runs the stalled claimers, which take the same tenants and block again.
    startWorker();
    await waitFor(claimsHeld(2));
    await killHard(workers[workers.length - 1].child);
    await endOrphanedBackends();

    await locks.query('SELECT pg_advisory_unlock_all()');
    startWorker();
    // Regression: after a second crash Bull may give up on the stalled claimer jobs; the rows
    // they held must still be given back (orphan release) and the run finished by new claimers.
    const finished = await waitForRun(platform, started.id, { timeoutMs: 30_000 }).catch(async () =>
      getRun(platform, started.id),
    );
    expect(finished).toMatchObject({
      status: 'completed',
      counts: { pending: 0, running: 0, succeeded: FLEET_SIZE, failed: 0, skipped: 0 },
    });
    const after = await versionsBySchema(
      db,
      fleet.map((tenant) => tenant.schema),
    );
    expect([...after.values()].filter((v) => v.join() !== '1,2,3,4')).toEqual([]);
  });
});
