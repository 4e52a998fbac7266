/**
 * Onboarding as a saga of recorded, idempotent steps (SPEC.md "Tenant lifecycle"): each step's
 * record, replays that change nothing, and a step that keeps failing, leaving the tenant
 * `failed` with a reason, then a retry that resumes where it stopped.
 */
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { loadControlPlaneConfig } from '@platform/config';
import { createWorker } from '../src/control-plane.app';
import { waitFor } from '../../../test/wait-for';
import {
  PLATFORM_DOMAIN,
  startPlatform,
  type RunningPlatform,
} from '../../../test/platform-harness';

const STEP_NAMES = [
  'create-schema',
  'apply-template',
  'seed-lookups',
  'storage-prefix',
  'dns-record',
  'certificate',
  'admin-invite',
  'welcome-mail',
  'activate',
];
/**
 * The harness leaves every outside system off, so these steps are skipped, each saying which
 * setting would turn it on; all other steps do their work.
 */
const SKIPPED_STEP_SETTINGS: Record<string, string> = {
  'storage-prefix': 'STORAGE_PROVIDER',
  'dns-record': 'DNS_PROVIDER',
  certificate: 'ACME_DIRECTORY_URL',
  'welcome-mail': 'MAIL_PROVIDER',
};
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const suffix = () => randomBytes(3).toString('hex');

interface StepView {
  step: string;
  status: string;
  attempts: number;
  lastError: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

interface TenantView {
  id: string;
  slug: string;
  status: string;
  statusReason: string | null;
  schema: string;
  templateVersion: number;
  activatedAt: string | null;
  provisioningSteps: StepView[];
}

function tenantBody(slug: string) {
  return { slug, name: `Tenant ${slug}`, adminEmail: `admin@${slug}.test` };
}

const stepsByName = (steps: StepView[]): Record<string, StepView> =>
  Object.fromEntries(steps.map((step) => [step.step, step]));

/** Every step ran once: skipped (naming its setting) if its system is off, else succeeded. */
function expectEachStepDoneOnce(steps: StepView[]): void {
  expect(steps.map((step) => step.step)).toEqual(STEP_NAMES);
  for (const step of steps) {
    const setting = SKIPPED_STEP_SETTINGS[step.step];
    expect(step).toMatchObject(
      setting
        ? { status: 'skipped', attempts: 1, lastError: expect.stringContaining(setting) }
        : { status: 'succeeded', attempts: 1, lastError: null },
    );
  }
}

describe('provisioning', () => {
  let platform: RunningPlatform;
  let db: Client;
  const bearer = () => `Bearer ${platform.adminToken}`;
  const view = async (id: string): Promise<TenantView> =>
    (await platform.api().get(`/v1/tenants/${id}`).set('Authorization', bearer()).expect(200))
      .body as TenantView;
  const tenantSchemaCount = async () =>
    (await db.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 't\\_%'`))
      .rows[0].n as number;

  beforeAll(async () => {
    platform = await startPlatform();
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  it('records each step after one attempt, with timings: done, or skipped naming its setting', async () => {
    const tenant = await platform.createTenant(`steps-${suffix()}`);
    const body = await view(tenant.id);
    expect(body.templateVersion).toBe(TENANT_TEMPLATE_MIGRATIONS.length);
    const steps = body.provisioningSteps;
    expectEachStepDoneOnce(steps);
    for (const step of steps) {
      expect(step.durationMs).toEqual(expect.any(Number));
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(step.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(step.startedAt!));
    }
    // Steps ran in order.
    for (let i = 1; i < steps.length; i++) {
      expect(Date.parse(steps[i].startedAt!)).toBeGreaterThanOrEqual(
        Date.parse(steps[i - 1].finishedAt!),
      );
    }
    expect(Date.parse(body.activatedAt!)).toBeGreaterThanOrEqual(
      Date.parse(steps[steps.length - 2].finishedAt!),
    );
  });

  it('replays a creation after activation without a new job, schema or step attempt', async () => {
    const slug = `replay-${suffix()}`;
    const key = `prov-${randomUUID()}`;
    const first = await platform
      .api()
      .post('/v1/tenants')
      .set('Authorization', bearer())
      .set('Idempotency-Key', key)
      .send(tenantBody(slug));
    expect(first.status).toBe(202);
    await platform.waitForStatus(first.body.id, 'active');
    // The first job ends just after the activation it made (Bull keeps a job hash per job id
    // until then): once it is gone, any job key is one the replay queued.
    const redis = new Redis(REDIS_URL);
    const jobKeys = () =>
      redis.keys(`${platform.redisPrefix}:bull:provisioning:provision:${first.body.id}*`);
    let before: TenantView;
    let schemasBefore: number;
    try {
      await waitFor(async () => (await jobKeys()).length === 0, 'the first job removed');
      before = await view(first.body.id);
      schemasBefore = await tenantSchemaCount();

      const replay = await platform
        .api()
        .post('/v1/tenants')
        .set('Authorization', bearer())
        .set('Idempotency-Key', key)
        .send(tenantBody(slug));
      expect(replay.status).toBe(202);
      expect(replay.body.id).toBe(first.body.id);
      expect(replay.body.status).toBe('active');

      // No provisioning job was queued for an active tenant.
      expect(await jobKeys()).toEqual([]);
    } finally {
      redis.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await view(first.body.id);
    expect(after.provisioningSteps).toEqual(before.provisioningSteps);
    expect(after.activatedAt).toBe(before.activatedAt);
    expect(after.templateVersion).toBe(TENANT_TEMPLATE_MIGRATIONS.length);
    expect(await tenantSchemaCount()).toBe(schemasBefore);
    const rows = await db.query('SELECT count(*)::int AS n FROM platform.tenants WHERE slug = $1', [
      slug,
    ]);
    expect(rows.rows[0].n).toBe(1);
    const history = await db.query(
      `SELECT count(*)::int AS n FROM "${before.schema}".template_migrations`,
    );
    expect(history.rows[0].n).toBe(TENANT_TEMPLATE_MIGRATIONS.length);
  });

  it('provisions several tenants at once, each into its own schema', async () => {
    const slugs = Array.from({ length: 4 }, () => `para-${suffix()}`);
    const tenants = await Promise.all(slugs.map((slug) => platform.createTenant(slug)));
    const schemas = new Set(tenants.map((tenant) => tenant.schema));
    expect(schemas.size).toBe(4);
    for (const tenant of tenants) {
      const countries = await db.query(
        `SELECT count(*)::int AS n FROM "${tenant.schema}".countries`,
      );
      expect(countries.rows[0].n).toBe(249);
      expectEachStepDoneOnce((await view(tenant.id)).provisioningSteps);
    }
  });
});

describe('provisioning: a failing step, then retry', () => {
  let platform: RunningPlatform;
  let db: Client;
  let worker: INestApplicationContext | undefined;
  const bearer = () => `Bearer ${platform.adminToken}`;
  const view = async (id: string): Promise<TenantView> =>
    (await platform.api().get(`/v1/tenants/${id}`).set('Authorization', bearer()).expect(200))
      .body as TenantView;
  const create = async (slug: string) => {
    const response = await platform
      .api()
      .post('/v1/tenants')
      .set('Authorization', bearer())
      .send(tenantBody(slug));
    expect(response.status).toBe(202);
    return response.body as { id: string; schema: string; status: string };
  };

  // Everything these tests need happens before the worker exists; tests then only read and act
  // on their own tenant, so they do not depend on each other's order.
  /** Left failed: inspected only. */
  let broken: { id: string; schema: string; status: string };
  /** Failed the same way, then repaired and retried by its own test. */
  let retried: { id: string; schema: string };
  let healthy: { id: string; schema: string };
  let deletedEarly: { id: string; schema: string };
  /** Bull's job hashes for `healthy` while no worker existed (proves the key pattern used above). */
  let queuedBeforeWorker: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform({ withoutWorker: true });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();

    broken = await create(`broken-${suffix()}`);
    retried = await create(`retried-${suffix()}`);
    healthy = await create(`healthy-${suffix()}`);
    deletedEarly = await create(`gone-${suffix()}`);
    expect(broken.status).toBe('provisioning');

    // Sabotage: the first template migration creates `users`; a table already there makes the
    // apply-template step fail every time until someone removes it.
    for (const tenant of [broken, retried]) {
      await db.query(`CREATE SCHEMA "${tenant.schema}"`);
      await db.query(`CREATE TABLE "${tenant.schema}".users (x int)`);
    }
    await platform
      .api()
      .delete(`/v1/tenants/${deletedEarly.id}`)
      .set('Authorization', bearer())
      .expect(200);

    const redis = new Redis(REDIS_URL);
    try {
      queuedBeforeWorker = await redis.keys(
        `${platform.redisPrefix}:bull:provisioning:provision:${healthy.id}`,
      );
    } finally {
      redis.disconnect();
    }

    // A worker with the harness's settings; at start it re-enqueues every provisioning tenant.
    worker = await createWorker(
      loadControlPlaneConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: platform.database.url,
        REDIS_URL,
        REDIS_PREFIX: platform.redisPrefix,
        PLATFORM_DOMAIN,
        PLATFORM_ADMIN_TOKEN: platform.adminToken,
        PROVISIONING_ATTEMPTS: '2',
        PROVISIONING_BACKOFF_MS: '50',
      }),
    );
    await platform.waitForStatus(broken.id, 'failed');
    await platform.waitForStatus(retried.id, 'failed');
  });

  afterAll(async () => {
    await worker?.close();
    await db?.end();
    await platform?.stop();
  });

  it('marks the tenant failed with the step and reason after the last attempt', async () => {
    const body = await view(broken.id);
    expect(body.status).toBe('failed');
    expect(body.statusReason).toMatch(/^apply-template: /);
    expect(body.statusReason).toContain('already exists');
    const steps = stepsByName(body.provisioningSteps);
    expect(steps['create-schema']).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      lastError: null,
    });
    expect(steps['apply-template']).toMatchObject({ status: 'failed', attempts: 2 });
    expect(steps['apply-template'].lastError).toEqual(expect.stringContaining('users'));
    // Nothing after the failed step ran.
    for (const name of STEP_NAMES.slice(STEP_NAMES.indexOf('apply-template') + 1)) {
      expect(steps[name]).toMatchObject({ status: 'pending', attempts: 0 });
    }
    // Nothing half-created: the failed migration batch rolled back, history table included.
    const history = await db.query('SELECT to_regclass($1) AS t', [
      `"${broken.schema}".template_migrations`,
    ]);
    expect(history.rows[0].t).toBeNull();
    const users = await db.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'users'`,
      [broken.schema],
    );
    expect(users.rows.map((row) => row.column_name)).toEqual(['x']);
  });

  it('refuses retry of a tenant that is not failed', async () => {
    await platform.waitForStatus(healthy.id, 'active');
    const response = await platform
      .api()
      .post(`/v1/tenants/${healthy.id}/retry`)
      .set('Authorization', bearer());
    expect(response.status).toBe(409);
    expect(response.body.error).toBe('invalid_transition');
  });

  it('activates, at worker start, a tenant whose job was queued before any worker ran', async () => {
    expect(queuedBeforeWorker).toHaveLength(1);
    const body = await platform.waitForStatus(healthy.id, 'active');
    expect(body.status).toBe('active');
    expectEachStepDoneOnce((await view(healthy.id)).provisioningSteps);
    const countries = await db.query(
      `SELECT count(*)::int AS n FROM "${healthy.schema}".countries`,
    );
    expect(countries.rows[0].n).toBe(249);
  });

  it('never provisions a tenant deleted before its job ran', async () => {
    // Let the worker drain its queue (the failing tenant has already used its attempts).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const body = await view(deletedEarly.id);
    expect(body.status).toBe('deleted');
    expect(body.activatedAt).toBeNull();
    const steps = stepsByName(body.provisioningSteps);
    expect(Object.values(steps).every((step) => step.attempts === 0)).toBe(true);
    const schema = await db.query(
      'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1',
      [deletedEarly.schema],
    );
    expect(schema.rows[0].n).toBe(0);
  });

  it('resumes from the failed step on retry once the cause is removed', async () => {
    await platform.waitForStatus(retried.id, 'failed');
    await db.query(`DROP TABLE "${retried.schema}".users`);

    const retry = await platform
      .api()
      .post(`/v1/tenants/${retried.id}/retry`)
      .set('Authorization', bearer());
    expect(retry.status).toBe(202);
    expect(retry.body.status).toBe('provisioning');
    expect(retry.body.statusReason).toBeNull();

    const active = await platform.waitForStatus(retried.id, 'active');
    expect(active.status).toBe('active');
    const body = await view(retried.id);
    expect(body.templateVersion).toBe(TENANT_TEMPLATE_MIGRATIONS.length);
    const steps = stepsByName(body.provisioningSteps);
    expect(steps['create-schema']).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(steps['apply-template']).toMatchObject({
      status: 'succeeded',
      attempts: 3,
      lastError: null,
    });
    // Every later step ran once, after the repair.
    for (const name of STEP_NAMES.slice(STEP_NAMES.indexOf('apply-template') + 1)) {
      expect(steps[name]).toMatchObject({
        status: SKIPPED_STEP_SETTINGS[name] ? 'skipped' : 'succeeded',
        attempts: 1,
      });
    }
    const versions = await db.query<{ version: number }>(
      `SELECT version FROM "${retried.schema}".template_migrations ORDER BY version`,
    );
    expect(versions.rows.map((row) => row.version)).toEqual(
      TENANT_TEMPLATE_MIGRATIONS.map((migration) => migration.version),
    );
    const countries = await db.query(
      `SELECT count(*)::int AS n FROM "${retried.schema}".countries`,
    );
    expect(countries.rows[0].n).toBe(249);

    const audit = await db.query(
      `SELECT action, actor FROM platform.audit_log WHERE tenant_id = $1 ORDER BY id`,
      [retried.id],
    );
    expect(audit.rows).toEqual([
      { action: 'tenant.create', actor: 'bootstrap-admin' },
      { action: 'tenant.retry', actor: 'bootstrap-admin' },
    ]);
  });
});
