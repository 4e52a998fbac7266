/**
 * Fleet migrations over a fleet of 200 real tenant schemas (SPEC.md: "roll a schema change
 * across every tenant safely (plan, canary, concurrency, resume)"). Every claim is checked
 * against each schema's own template_migrations table and catalog, not only the run's report.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TenantSchemaMigrator } from '@platform/database';
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';
import {
  archivedAtColumns,
  catalogFingerprint,
  createFleet,
  getRun,
  hasIndex,
  historyRows,
  migrateFleet,
  normalizedCatalog,
  operator,
  runCli,
  runRows,
  sleep,
  startRun,
  versionsBySchema,
  waitForRun,
  type FleetTenant,
  type RunView,
} from './fleet-helpers';

const FLEET_SIZE = 200;
const V3 = [1, 2, 3];
const V4 = [1, 2, 3, 4];
/** Tenants are provisioned at the template's latest version; the runs here go to 3 and 4. */
const LATEST = TENANT_TEMPLATE_MIGRATIONS.length;
/** What a run from the latest version back to 3 undoes, in order. */
const DOWN_TO_3 = TENANT_TEMPLATE_MIGRATIONS.slice(3)
  .reverse()
  .map((migration) => ({ version: migration.version, name: migration.name, direction: 'down' }));

describe('fleet migrations (200 tenants)', () => {
  let platform: RunningPlatform;
  let db: Client;
  let fleet: FleetTenant[];
  const api = () => operator(platform);
  const schemas = () => fleet.map((tenant) => tenant.schema);
  const versionsOf = async () => versionsBySchema(db, schemas());

  /** Adds a column named like the one v4 adds, so that v4 fails on this tenant alone. */
  const breakTenant = (tenant: FleetTenant) =>
    db.query(`ALTER TABLE "${tenant.schema}".projects ADD COLUMN archived_at text`);
  const fixTenant = (tenant: FleetTenant) =>
    db.query(`ALTER TABLE "${tenant.schema}".projects DROP COLUMN archived_at`);

  const registryVersions = async () => {
    const { rows } = await db.query<{ id: string; template_version: number }>(
      `SELECT id, template_version FROM platform.tenants WHERE id = ANY($1::uuid[])`,
      [fleet.map((tenant) => tenant.id)],
    );
    return new Map(rows.map((row) => [row.id, row.template_version]));
  };
  const runCount = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM platform.migration_runs'))
      .rows[0].n;
  const v4AppliedAt = async () =>
    new Map(
      (await historyRows(db, schemas()))
        .filter((row) => row.version === 4)
        .map((row) => [row.schema, row.applied_at.getTime()]),
    );
  const expectWholeFleetAt = async (expected: number[]) => {
    const versions = await versionsOf();
    const off = [...versions].filter(([, applied]) => applied.join() !== expected.join());
    expect(off).toEqual([]);
    const columns = await archivedAtColumns(db);
    const wantColumns = expected.includes(4) ? 1 : 0;
    expect(fleet.filter((tenant) => columns.get(tenant.schema) !== wantColumns)).toEqual([]);
    const registry = await registryVersions();
    const wantVersion = expected[expected.length - 1];
    expect(fleet.filter((tenant) => registry.get(tenant.id) !== wantVersion)).toEqual([]);
  };

  beforeAll(async () => {
    platform = await startPlatform();
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    fleet = await createFleet(platform, db, `fm${randomBytes(3).toString('hex')}`, FLEET_SIZE);
  }, 240_000);

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  it('plans a rollback to 3 as one group at the latest version with its down steps, and changes nothing', async () => {
    const before = await catalogFingerprint(db);
    const runsBefore = await runCount();

    const response = await api().get('/v1/fleet/plan?to=3').expect(200);

    expect(response.body).toMatchObject({
      targetVersion: 3,
      latestVersion: LATEST,
      tenants: FLEET_SIZE,
      pending: FLEET_SIZE,
    });
    expect(response.body.groups).toEqual([
      {
        fromVersion: LATEST,
        tenants: FLEET_SIZE,
        migrations: DOWN_TO_3,
        sampleTenants: expect.arrayContaining([fleet[0].slug]),
      },
    ]);
    const noop = await api().get(`/v1/fleet/plan?to=${LATEST}`).expect(200);
    expect(noop.body).toMatchObject({
      pending: 0,
      groups: [{ fromVersion: LATEST, migrations: [] }],
    });

    expect(before.historyRows).toBe(FLEET_SIZE * LATEST);
    expect(await catalogFingerprint(db)).toEqual(before);
    expect(await runCount()).toBe(runsBefore);
  });

  it('rolls the whole fleet back to 3: every schema has [1,2,3] and no archived_at', async () => {
    const run = await migrateFleet(platform, 3, 4);

    expect(run).toMatchObject({
      status: 'completed',
      statusReason: null,
      targetVersion: 3,
      total: FLEET_SIZE,
      counts: { pending: 0, running: 0, succeeded: FLEET_SIZE, failed: 0, skipped: 0 },
      failures: [],
    });
    await expectWholeFleetAt(V3);
    for (const tenant of fleet.slice(0, 5)) {
      expect(await hasIndex(db, tenant.schema, 'projects_active_idx')).toBe(false);
    }
    const rows = await runRows(db, run.id);
    expect([...rows.values()].filter((row) => row.from_version !== LATEST)).toEqual([]);
    const status = await api().get('/v1/fleet/status').expect(200);
    expect(status.body.byVersion).toEqual([{ version: 3, status: 'active', tenants: FLEET_SIZE }]);
  });

  it('records a broken tenant as failed, rolls it back untouched, and resumes only it', async () => {
    const broken = fleet[120];
    await breakTenant(broken);
    const brokenBefore = await normalizedCatalog(db, broken.schema);

    const started = await startRun(platform, { targetVersion: 4, concurrency: 4 });
    expect(started).toMatchObject({ total: FLEET_SIZE, targetVersion: 4 });
    const failed = await waitForRun(platform, started.id);

    expect(failed.status).toBe('failed');
    expect(failed.statusReason).toMatch(/1 tenant\(s\) failed/);
    expect(failed.counts).toEqual({
      pending: 0,
      running: 0,
      succeeded: FLEET_SIZE - 1,
      failed: 1,
      skipped: 0,
    });
    expect(failed.failures).toEqual([
      expect.objectContaining({
        tenantId: broken.id,
        slug: broken.slug,
        status: 'failed',
        fromVersion: 3,
        toVersion: null,
        error: expect.stringContaining('archived_at'),
      }),
    ]);
    // The schema's own truth: still at 3, nothing of v4 half-applied.
    const versions = await versionsOf();
    expect(versions.get(broken.schema)).toEqual(V3);
    expect(await hasIndex(db, broken.schema, 'projects_active_idx')).toBe(false);
    expect(await normalizedCatalog(db, broken.schema)).toEqual(brokenBefore);
    const others = fleet.filter((tenant) => tenant !== broken);
    expect(others.filter((tenant) => versions.get(tenant.schema)?.join() !== V4.join())).toEqual(
      [],
    );
    const registry = await registryVersions();
    expect(registry.get(broken.id)).toBe(3);
    expect(others.filter((tenant) => registry.get(tenant.id) !== 4)).toEqual([]);
    const brokenRow = (await runRows(db, started.id)).get(broken.id);
    expect(brokenRow).toMatchObject({ status: 'failed', from_version: 3, to_version: null });
    expect(brokenRow?.error).toMatch(/archived_at/);
    const listed = await api().get(`/v1/migration-runs/${started.id}/tenants?status=failed`);
    expect(listed.status).toBe(200);
    expect((listed.body as { slug: string }[]).map((row) => row.slug)).toEqual([broken.slug]);
    const status = await api().get('/v1/fleet/status').expect(200);
    expect(status.body.lastFailures).toEqual([
      expect.objectContaining({ slug: broken.slug, runId: started.id }),
    ]);

    // Fix the tenant and resume: only it is migrated; nobody else is redone.
    const appliedBefore = await v4AppliedAt();
    await fixTenant(broken);
    const resumed = await api().post(`/v1/migration-runs/${started.id}/resume`).expect(202);
    expect(resumed.body.status).toBe('running');
    const completed = await waitForRun(platform, started.id);

    expect(completed).toMatchObject({
      status: 'completed',
      statusReason: null,
      counts: { pending: 0, running: 0, succeeded: FLEET_SIZE, failed: 0, skipped: 0 },
      failures: [],
    });
    await expectWholeFleetAt(V4);
    const appliedAfter = await v4AppliedAt();
    expect(
      others.filter((t) => appliedAfter.get(t.schema) !== appliedBefore.get(t.schema)),
    ).toEqual([]);
    expect(appliedBefore.has(broken.schema)).toBe(false);
    expect(appliedAfter.has(broken.schema)).toBe(true);
    const rows = await runRows(db, started.id);
    expect(rows.get(broken.id)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      from_version: 3,
      to_version: 4,
      error: null,
    });
    expect([...rows.values()].filter((row) => row.attempts !== 1)).toHaveLength(1);
    const healed = await api().get('/v1/fleet/status').expect(200);
    expect(healed.body.lastFailures).toEqual([]);
  });

  it('leaves a tenant that went latest → 3 → latest shaped exactly like a freshly provisioned one', async () => {
    // Outside the fleet (which the other tests keep at 3 or 4): the migrator a run uses, per schema.
    const migrator = platform.controlPlane.get(TenantSchemaMigrator);
    const travelled = await platform.createTenant(`fm-trip-${randomBytes(3).toString('hex')}`);
    const fresh = await platform.createTenant(`fm-fresh-${randomBytes(3).toString('hex')}`);
    const ref = { id: travelled.id, slug: travelled.slug, schemaName: travelled.schema };
    await migrator.migrate({ ...ref, cluster: 'main' }, 3);
    await migrator.migrate({ ...ref, cluster: 'main' }, LATEST);

    const freshDump = await normalizedCatalog(db, fresh.schema);
    const travelledDump = await normalizedCatalog(db, travelled.schema);

    expect(freshDump).toContain(
      'index projects_active_idx CREATE INDEX projects_active_idx ON <schema>.projects USING btree (created_at DESC, id) WHERE (archived_at IS NULL)',
    );
    expect(freshDump.filter((line) => line.startsWith('column projects | archived_at'))).toEqual([
      'column projects | archived_at | timestamp with time zone | timestamptz |  | YES |  |  | ',
    ]);
    expect(travelledDump).toEqual(freshDump);
    // From here on both are part of the fleet that the next runs move.
    for (const tenant of [travelled, fresh]) {
      fleet.push({ id: tenant.id, slug: tenant.slug, schema: tenant.schema });
    }
  });

  it('pauses a running run (nothing moves while paused) and resumes it to the end', async () => {
    const suspended = fleet[9]; // runs include suspended tenants: their schemas exist
    await api().post(`/v1/tenants/${suspended.id}/suspend`).expect(200);
    const started = await startRun(platform, { targetVersion: 3, concurrency: 1 });
    expect(started.total).toBe(fleet.length);
    const paused = await api().post(`/v1/migration-runs/${started.id}/pause`).expect(200);
    expect(paused.body.status).toBe('paused');
    await api().post(`/v1/migration-runs/${started.id}/pause`).expect(409);

    // The claimer finishes the batch it holds, then stops.
    const settled = await waitForRun(platform, started.id, {
      until: (run) => run.counts.running === 0,
    });
    await sleep(1000);
    const later = await getRun(platform, started.id);
    expect(later.status).toBe('paused');
    expect(later.counts).toEqual(settled.counts);
    expect(later.counts.pending).toBeGreaterThan(0);
    const versions = await versionsOf();
    const atThree = fleet.filter((tenant) => versions.get(tenant.schema)?.join() === V3.join());
    expect(atThree).toHaveLength(later.counts.succeeded);

    await api().post(`/v1/migration-runs/${started.id}/resume`).expect(202);
    const completed = await waitForRun(platform, started.id);
    expect(completed).toMatchObject({
      status: 'completed',
      generation: 1,
      counts: { succeeded: fleet.length, failed: 0, pending: 0, running: 0 },
    });
    await expectWholeFleetAt(V3);
    const status = await api().get('/v1/fleet/status').expect(200);
    expect(status.body.byVersion).toEqual([
      { version: 3, status: 'active', tenants: fleet.length - 1 },
      { version: 3, status: 'suspended', tenants: 1 },
    ]);
    await api().post(`/v1/tenants/${suspended.id}/resume`).expect(200);
  });

  it('lets two runs to the same target race: each schema is migrated exactly once', async () => {
    const [first, second] = await Promise.all([
      startRun(platform, { targetVersion: 4, concurrency: 4 }),
      startRun(platform, { targetVersion: 4, concurrency: 4 }),
    ]);
    const [a, b] = await Promise.all([
      waitForRun(platform, first.id),
      waitForRun(platform, second.id),
    ]);

    for (const run of [a, b]) {
      expect(run).toMatchObject({
        status: 'completed',
        counts: { succeeded: fleet.length, failed: 0, pending: 0, running: 0, skipped: 0 },
      });
    }
    const { rows } = await db.query<{ n: number }>(
      fleet
        .map(
          (tenant) =>
            `SELECT count(*)::int AS n FROM "${tenant.schema}".template_migrations WHERE version = 4`,
        )
        .join(' UNION ALL '),
    );
    expect(rows.filter((row) => row.n !== 1)).toEqual([]);
    await expectWholeFleetAt(V4);
    const rowsA = await runRows(db, a.id);
    const rowsB = await runRows(db, b.id);
    const wrong = fleet.filter((tenant) => {
      const ra = rowsA.get(tenant.id);
      const rb = rowsB.get(tenant.id);
      const froms = [ra?.from_version, rb?.from_version].sort().join();
      return (
        ra?.status !== 'succeeded' ||
        rb?.status !== 'succeeded' ||
        ra.to_version !== 4 ||
        rb.to_version !== 4 ||
        froms !== '3,4'
      );
    });
    expect(wrong).toEqual([]);
  });

  it('fails the run when a canary fails, before any main-phase tenant is touched', async () => {
    await migrateFleet(platform, 3, 4);
    const canaryVictim = fleet[0]; // canaries are the oldest tenants
    await breakTenant(canaryVictim);

    // Regression (was intermittent): no claimer may take main-phase tenants while a canary is
    // still pending or running; the next test makes that race likely.
    const started = await startRun(platform, { targetVersion: 4, concurrency: 4, canaryCount: 3 });
    expect(started.canary.total).toBe(3);
    const run = await waitForRun(platform, started.id);

    expect(run.status).toBe('failed');
    expect(run.statusReason).toMatch(/canary/);
    expect(run.canary).toMatchObject({ total: 3, failed: 1 });
    expect(run.failures).toEqual([
      expect.objectContaining({ slug: canaryVictim.slug, phase: 'canary' }),
    ]);
    const rows = await runRows(db, run.id);
    const canaries = [...rows.values()].filter((row) => row.phase === 'canary');
    expect(canaries.map((row) => row.tenant_id).sort()).toEqual(
      fleet
        .slice(0, 3)
        .map((tenant) => tenant.id)
        .sort(),
    );
    const mainRows = [...rows.values()].filter((row) => row.phase === 'main');
    expect(mainRows.filter((row) => row.status !== 'pending' || row.attempts !== 0)).toEqual([]);
    const versions = await versionsOf();
    const mainTouched = fleet
      .slice(3)
      .filter((tenant) => versions.get(tenant.schema)?.join() !== V3.join());
    expect(mainTouched).toEqual([]);
    expect(versions.get(canaryVictim.schema)).toEqual(V3);

    // Cancel it: the pending rows become skipped; a cancelled run cannot be resumed.
    await fixTenant(canaryVictim);
    const cancelled = await api().post(`/v1/migration-runs/${run.id}/cancel`).expect(200);
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      counts: { pending: 0, skipped: fleet.length - 3 },
    });
    await api().post(`/v1/migration-runs/${run.id}/resume`).expect(409);
  });

  it('keeps every main-phase tenant waiting while the canary is in flight (16 claimers)', async () => {
    const canaryVictim = fleet[0];
    await breakTenant(canaryVictim);
    const violations: { attempt: number; mainClaimed: number; reason: string | null }[] = [];
    try {
      for (let attempt = 0; attempt < 12 && violations.length === 0; attempt++) {
        const started = await startRun(platform, {
          targetVersion: 4,
          concurrency: 16,
          canaryCount: 1,
        });
        const run = await waitForRun(platform, started.id);
        await sleep(300); // let claimers that went on finish their batch
        const rows = [...(await runRows(db, run.id)).values()];
        const mainClaimed = rows.filter((row) => row.phase === 'main' && row.attempts > 0);
        expect(run.status).toBe('failed');
        if (mainClaimed.length > 0) {
          violations.push({ attempt, mainClaimed: mainClaimed.length, reason: run.statusReason });
        }
        await api().post(`/v1/migration-runs/${run.id}/cancel`).expect(200);
      }
      // Regression: a canary hidden by SKIP LOCKED (another claimer is taking it) counts as
      // undecided, so nobody claims main-phase tenants until every canary succeeded.
      expect(violations).toEqual([]);
    } finally {
      await fixTenant(canaryVictim);
      await migrateFleet(platform, 3, 4);
    }
  });

  it('stops a run once more than maxFailures tenants failed, leaving the rest pending', async () => {
    const victims = [fleet[10], fleet[11]];
    for (const victim of victims) await breakTenant(victim);
    const before = await versionsOf();

    const started = await startRun(platform, { targetVersion: 4, concurrency: 1, maxFailures: 0 });
    const run = await waitForRun(platform, started.id);

    expect(run.status).toBe('failed');
    expect(run.statusReason).toMatch(/more than the limit of 0/);
    expect(run.counts.failed).toBeGreaterThanOrEqual(1);
    expect(run.counts.pending).toBeGreaterThan(0);
    expect(run.counts.running).toBe(0);
    const rows = await runRows(db, run.id);
    const after = await versionsOf();
    const pending = fleet.filter((tenant) => rows.get(tenant.id)?.status === 'pending');
    expect(pending).toHaveLength(run.counts.pending);
    const moved = pending.filter(
      (tenant) => after.get(tenant.schema)?.join() !== before.get(tenant.schema)?.join(),
    );
    expect(moved).toEqual([]);
    expect(pending.filter((tenant) => after.get(tenant.schema)?.join() === V4.join())).toEqual([]);

    for (const victim of victims) await fixTenant(victim);
    await api().post(`/v1/migration-runs/${run.id}/resume`).expect(202);
    const completed = await waitForRun(platform, run.id);
    expect(completed.status).toBe('completed');
    await expectWholeFleetAt(V4);
  });

  it('refuses invalid transitions (409), unknown runs (404) and impossible targets (400)', async () => {
    const done = (await api().get('/v1/migration-runs?limit=1').expect(200)).body as RunView[];
    const completedId = done[0].id;
    expect(done[0].status).toBe('completed');
    for (const action of ['pause', 'resume', 'cancel']) {
      const response = await api().post(`/v1/migration-runs/${completedId}/${action}`);
      expect(response.status).toBe(409);
      expect(JSON.stringify(response.body)).toMatch(/completed/);
    }
    expect((await getRun(platform, completedId)).status).toBe('completed');

    const unknown = '00000000-0000-4000-8000-000000000000';
    await api().get(`/v1/migration-runs/${unknown}`).expect(404);
    await api().get(`/v1/migration-runs/${unknown}/tenants`).expect(404);
    for (const action of ['pause', 'resume', 'cancel']) {
      await api().post(`/v1/migration-runs/${unknown}/${action}`).expect(404);
    }
    await api().get('/v1/migration-runs/not-a-run-id').expect(404);

    const runsBefore = await runCount();
    const target = await api().post('/v1/migration-runs').send({ targetVersion: 99 });
    expect(target.status).toBe(400);
    expect(JSON.stringify(target.body)).toMatch(/99/);
    await api().post('/v1/migration-runs').send({ concurrency: 0 }).expect(400);
    await api().post('/v1/migration-runs').send({ targetVersion: -1 }).expect(400);
    await api()
      .post('/v1/migration-runs')
      .send({ canaryCount: 1, canaryTenants: [fleet[0].slug] })
      .expect(400);
    await api()
      .post('/v1/migration-runs')
      .send({ canaryTenants: ['no-such-tenant'] })
      .expect(400);
    // Past PostgreSQL's integer: these reached the INSERT and failed there (a 500).
    for (const body of [{ maxFailures: 2_147_483_648 }, { maxFailures: 1e300 }]) {
      const response = await api().post('/v1/migration-runs').send(body);
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([
        expect.objectContaining({ field: 'maxFailures', rule: 'max' }),
      ]);
    }
    await api().post('/v1/migration-runs').send({ targetVersion: 2_147_483_648 }).expect(400);
    await api().get('/v1/fleet/plan?to=99').expect(400);
    await api().get('/v1/fleet/plan?to=9007199254740993').expect(400);
    await api().get(`/v1/migration-runs/${completedId}/tenants?status=bogus`).expect(400);
    expect(await runCount()).toBe(runsBefore);
  });

  describe('CLI', () => {
    const cliEnv = () => ({
      ...process.env,
      DATABASE_URL: platform.database.url,
      REDIS_PREFIX: platform.redisPrefix,
      PLATFORM_DOMAIN: 'platform.test',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
    });

    it('tenants:migrate --dry-run prints the plan and changes nothing', async () => {
      const before = await catalogFingerprint(db);
      const runsBefore = await runCount();

      const result = await runCli(['tenants:migrate', '--dry-run', '--to', '3'], cliEnv());

      expect(result).toMatchObject({ code: 0 });
      expect(result.stdout).toMatch(
        new RegExp(`dry run: ${fleet.length} of ${fleet.length} tenants would change`),
      );
      expect(result.stdout).toMatch(/from version/);
      expect(result.stdout).toMatch(/-ArchiveProjects0004/);
      expect(await catalogFingerprint(db)).toEqual(before);
      expect(await runCount()).toBe(runsBefore);
    });

    it('tenants:migrate --help lists every option', async () => {
      const result = await runCli(['tenants:migrate', '--help'], cliEnv());
      expect(result.code).toBe(0);
      for (const flag of [
        '--to',
        '--concurrency',
        '--canary',
        '--tenants',
        '--max-failures',
        '--dry-run',
        '--resume',
      ]) {
        expect(result.stdout).toContain(flag);
      }
    });

    it('tenants:migrate exits 0 when every tenant reached the target, 1 when one failed', async () => {
      await migrateFleet(platform, 3, 4);

      const ok = await runCli(['tenants:migrate', '--to', '4', '--concurrency', '2'], cliEnv());
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/completed/);
      await expectWholeFleetAt(V4);

      await migrateFleet(platform, 3, 4);
      const victim = fleet[42];
      await breakTenant(victim);
      const bad = await runCli(['tenants:migrate', '--to', '4', '--concurrency', '2'], cliEnv());
      expect(bad.code).not.toBe(0);
      expect(bad.stdout).toMatch(/failed/);
      expect(bad.stdout).toContain(victim.slug);
      expect((await versionsOf()).get(victim.schema)).toEqual(V3);

      const status = await runCli(['tenants:status'], cliEnv());
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`latest template version: ${LATEST}`));
      expect(status.stdout).toMatch(/template version/);
      expect(status.stdout).toMatch(
        new RegExp(`│\\s*4\\s*│\\s*'active'\\s*│\\s*${fleet.length - 1}\\s*│`),
      );
      expect(status.stdout).toMatch(/│\s*3\s*│\s*'active'\s*│\s*1\s*│\s*'yes'/);
      expect(status.stdout).toContain(victim.slug);

      // Fixed, the failed run goes on from the CLI too, and only the failed tenant is redone.
      await fixTenant(victim);
      const failedRun = /run ([0-9a-f-]{36}):/.exec(bad.stdout)?.[1] ?? 'missing';
      expect((await getRun(platform, failedRun)).status).toBe('failed');
      const resumed = await runCli(['tenants:migrate', '--resume', failedRun], cliEnv());
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/completed/);
      expect((await getRun(platform, failedRun)).status).toBe('completed');
      await expectWholeFleetAt(V4);
      const rows = await runRows(db, failedRun);
      expect([...rows.values()].filter((row) => row.attempts !== 1)).toEqual([
        expect.objectContaining({ tenant_id: victim.id, attempts: 2, status: 'succeeded' }),
      ]);
    });
  });
});
