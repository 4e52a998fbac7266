/**
 * Onboarding survives a worker SIGKILLed in the middle of any step (issue 3, "Crash safety"):
 * for each step a worker in its own process holds right after that step's work and before its
 * record (PROVISIONING_FAULT_HOLD), the moment a crash makes the step run twice. The test kills
 * it there, starts a fresh worker, and checks that the tenant ends `active` with exactly one of
 * everything onboarding makes: schema (template and seeds applied once), DNS record set,
 * certificate, S3 marker, admin with one invite, and welcome mail, whose link works.
 *
 * The certificate is one wildcard shared by all tenants, so its case runs first, while none
 * exists: the only case in which the held worker orders it. Every later case must find that
 * same certificate and order nothing.
 *
 * A last case kills the worker while the outbox relay waits for the SMTP server's 250 to the
 * welcome mail, and shows that the mail is then accepted exactly once.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import request from 'supertest';
import { COUNTRIES, CURRENCIES, TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { schemaNameForTenant } from '@platform/tenancy';
import { resolveRecords, startSmtpCapture, type CapturedMail } from '@platform/testing';
import {
  ONBOARDING_BUCKET,
  startOnboardingServers,
  type OnboardingServers,
} from '../../../test/onboarding-servers';
import {
  PLATFORM_DOMAIN,
  startPlatform,
  type RunningPlatform,
} from '../../../test/platform-harness';
import { PROVISIONING_STEP_NAMES } from '../src/provisioning/provisioning.pipeline';
import { killHard, sleep, spawnWorker } from './fleet-helpers';

type StepName = (typeof PROVISIONING_STEP_NAMES)[number];

/** Certificate first: see the file comment. The rest in pipeline order. */
const CRASH_STEPS: readonly StepName[] = [
  'certificate',
  'create-schema',
  'apply-template',
  'seed-lookups',
  'storage-prefix',
  'dns-record',
  'admin-invite',
  'welcome-mail',
  'activate',
];

/**
 * Steps whose record is written with their work, in one statement: a crash after the work
 * finds them done already, and the rerun does not run them again. Activation is one, so that
 * no one sees a tenant `active` while its activate step still reads `running`.
 */
const RECORDED_WITH_THEIR_WORK: readonly StepName[] = ['activate'];

/** Far longer than the test needs to see the hold and kill the worker. */
const HOLD_MS = 30_000;
/** How long the slow SMTP server sits on a complete message before it answers 250. */
const SLOW_ACCEPT_MS = 4_000;
const WILDCARD = `*.${PLATFORM_DOMAIN}`;
const INVITE_LINK = new RegExp(
  `https://([a-z0-9-]+)\\.${PLATFORM_DOMAIN.replace(/\./g, '\\.')}/welcome\\?token=([A-Za-z0-9_-]{43})`,
);

interface StepView {
  step: string;
  status: string;
  attempts: number;
}

interface TenantView {
  id: string;
  slug: string;
  status: string;
  statusReason: string | null;
  schema: string;
  provisioningSteps: StepView[];
}

interface CreatedTenant {
  id: string;
  slug: string;
  adminEmail: string;
}

interface CertificateRow {
  id: string;
  status: string;
  order_url: string | null;
  serial_number: string | null;
}

interface Worker {
  child: ChildProcess;
  output: () => string;
}

async function waitFor(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 30_000,
  diagnostics: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms\n${diagnostics()}`);
    }
    await sleep(100);
  }
}

/** SIGTERM (the worker closes its queues and pools), SIGKILL if it does not exit in time. */
async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A TCP relay in front of an SMTP server that sees when a client has sent a whole message (the
 * `<CRLF>.<CRLF>` that ends DATA): from then until the server's 250 the mail is in flight. A
 * client that dies takes its relayed connection down with it, as the server would see it.
 */
async function startDataWatcher(targetPort: number) {
  let completeMessages = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      const seen = tail + chunk.toString('latin1');
      completeMessages += seen.split('\r\n.\r\n').length - 1;
      tail = seen.slice(-4);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no port');
  return {
    url: `smtp://127.0.0.1:${address.port}`,
    completeMessages: () => completeMessages,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}

describe('onboarding survives a worker killed during any step', () => {
  let servers: OnboardingServers;
  let platform: RunningPlatform;
  let db: Client;
  let s3: S3Client;
  const workers: Worker[] = [];
  /** The wildcard as the certificate case's held worker recorded it before it was killed. */
  let certificateAtKill: CertificateRow | undefined;

  const bearer = () => `Bearer ${platform.adminToken}`;
  const startWorker = (env: Record<string, string> = {}): Worker => {
    const worker = spawnWorker({
      ...process.env,
      ...platform.controlPlaneEnv,
      NODE_ENV: 'test',
      // The fault-injection line is a warning: it is how the test sees the worker holding.
      LOG_LEVEL: 'warn',
      WORKER_PORT: '0',
      ...env,
    });
    workers.push(worker);
    return worker;
  };
  /**
   * Held workers started ahead of their case, while the previous case's tenant is checked: a
   * worker's start is most of a case's time. Safe then, because that tenant's job is held by
   * the fresh worker and no other job is queued; it takes the next case's tenant, its only one.
   */
  const earlyHeldWorkers = new Map<StepName, Worker>();
  const heldWorker = (step: StepName): Worker => {
    const early = earlyHeldWorkers.get(step);
    earlyHeldWorkers.delete(step);
    return early ?? startWorker({ PROVISIONING_FAULT_HOLD: `${step}:${HOLD_MS}` });
  };
  const view = async (id: string): Promise<TenantView> =>
    (await platform.api().get(`/v1/tenants/${id}`).set('Authorization', bearer()).expect(200))
      .body as TenantView;
  const createTenant = async (slug: string): Promise<CreatedTenant> => {
    const adminEmail = `admin@${slug}.test`;
    const response = await platform
      .api()
      .post('/v1/tenants')
      .set('Authorization', bearer())
      .send({ slug, name: `Tenant ${slug}`, adminEmail });
    expect(response.status).toBe(202);
    return { id: response.body.id as string, slug, adminEmail };
  };
  const stepRow = async (tenantId: string, step: string) =>
    (
      await db.query<{ status: string; attempts: number }>(
        `SELECT status, attempts FROM platform.provisioning_steps
          WHERE tenant_id = $1 AND step = $2`,
        [tenantId, step],
      )
    ).rows[0];
  const tenantSchemaCount = async () =>
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 't\\_%'`,
      )
    ).rows[0].n;
  const certificateRows = async () =>
    (
      await db.query<CertificateRow>(
        `SELECT id, status, order_url, serial_number FROM platform.certificates
          WHERE subject = $1 ORDER BY created_at`,
        [WILDCARD],
      )
    ).rows;
  const outboxRows = async (tenantId: string) =>
    (
      await db.query<{ status: string; attempts: number; message_id: string; recipient: string }>(
        `SELECT status, attempts, message_id, recipient FROM platform.outbox
          WHERE tenant_id = $1`,
        [tenantId],
      )
    ).rows;
  /** Whether a transaction (the relay's, while it sends) holds the tenant's outbox row. */
  const outboxRowLocked = (tenantId: string) =>
    db
      .query(`SELECT 1 FROM platform.outbox WHERE tenant_id = $1 FOR UPDATE NOWAIT`, [tenantId])
      .then(
        () => false,
        (error: { code?: string }) => {
          if (error.code === '55P03') return true; // lock_not_available
          throw error;
        },
      );
  const storageKeys = async (tenantId: string) =>
    (
      (
        await s3.send(
          new ListObjectsV2Command({ Bucket: ONBOARDING_BUCKET, Prefix: `${tenantId}/` }),
        )
      ).Contents ?? []
    ).map((object) => object.Key);
  const hostname = (slug: string) => `${slug}.${PLATFORM_DOMAIN}`;
  /** The record sets PowerDNS holds for the tenant's hostname, read from its API. */
  const apiRecordSets = async (slug: string) => {
    const response = await fetch(
      `${servers.powerDns.apiUrl}/api/v1/servers/localhost/zones/${PLATFORM_DOMAIN}.`,
      { headers: { 'X-API-Key': servers.powerDns.apiKey } },
    );
    expect(response.status).toBe(200);
    const zone = (await response.json()) as {
      rrsets: { name: string; type: string; records: { content: string }[] }[];
    };
    return zone.rrsets
      .filter((rrset) => rrset.name === `${hostname(slug)}.`)
      .map((rrset) => ({ type: rrset.type, values: rrset.records.map((r) => r.content) }));
  };
  const quotedSchema = (tenantId: string) => `"${schemaNameForTenant(tenantId)}"`;
  const countRows = async (tenantId: string, table: string, where = 'true') =>
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${quotedSchema(tenantId)}.${table} WHERE ${where}`,
      )
    ).rows[0].n;

  /**
   * Whether the step's work is there: checked while the worker holds, to show the kill falls
   * after the work and before its record (and not, say, before the step started).
   */
  const workDone: Record<StepName, (tenant: CreatedTenant) => Promise<boolean>> = {
    'create-schema': async (tenant) =>
      (
        await db.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [
          schemaNameForTenant(tenant.id),
        ])
      ).rows.length === 1,
    'apply-template': async (tenant) =>
      (await countRows(tenant.id, 'template_migrations')) === TENANT_TEMPLATE_MIGRATIONS.length,
    'seed-lookups': async (tenant) =>
      (await countRows(tenant.id, 'countries')) === COUNTRIES.length &&
      (await countRows(tenant.id, 'currencies')) === CURRENCIES.length,
    'storage-prefix': async (tenant) => (await storageKeys(tenant.id)).length === 1,
    'dns-record': async (tenant) =>
      (await resolveRecords(servers.powerDns, hostname(tenant.slug), 'A')).length === 1,
    certificate: async () => (await certificateRows()).some((row) => row.status === 'issued'),
    'admin-invite': async (tenant) => (await outboxRows(tenant.id)).length === 1,
    'welcome-mail': async (tenant) =>
      (await outboxRows(tenant.id))[0]?.status === 'sent' &&
      mailsTo(tenant.adminEmail).length === 1,
    activate: async (tenant) => (await view(tenant.id)).status === 'active',
  };
  const mailsTo = (address: string): CapturedMail[] =>
    servers.smtp.messages.filter((mail) => mail.to.includes(address));

  /** Waits until the tenant is active and every step recorded as done (not merely active). */
  const waitUntilOnboarded = async (tenant: CreatedTenant, worker: Worker) => {
    let last: TenantView | undefined;
    await waitFor(
      `${tenant.slug} onboarded`,
      async () => {
        last = await view(tenant.id);
        return (
          last.status === 'active' &&
          last.provisioningSteps.every((step) => step.status === 'succeeded')
        );
      },
      30_000,
      () => `${JSON.stringify(last)}\nworker output:\n${worker.output()}`,
    );
  };

  /** Everything onboarding makes, once; `rerun` is the step whose worker was killed. */
  const expectOnboardedOnce = async (
    tenant: CreatedTenant,
    rerun: StepName,
    schemasBefore: number,
  ) => {
    const body = await view(tenant.id);
    expect(body).toMatchObject({ status: 'active', statusReason: null });
    // The dead worker recorded the held step's start (attempt 1) and never its end. The stalled
    // job re-ran on the new worker, which skipped the steps recorded as done, started the held
    // one again (attempt 2), and that step found its own work done and did it no second time.
    // A step recorded with its work was done already, and the rerun skipped it too.
    const rerunAttempts = RECORDED_WITH_THEIR_WORK.includes(rerun) ? 1 : 2;
    expect(
      body.provisioningSteps.map(({ step, status, attempts }) => ({ step, status, attempts })),
    ).toEqual(
      PROVISIONING_STEP_NAMES.map((step) => ({
        step,
        status: 'succeeded',
        attempts: step === rerun ? rerunAttempts : 1,
      })),
    );

    // One schema: its own, and no other made meanwhile; the template and seeds once each.
    const schema = schemaNameForTenant(tenant.id);
    expect(body.schema).toBe(schema);
    expect(await tenantSchemaCount()).toBe(schemasBefore + 1);
    const history = await db.query<{ version: number }>(
      `SELECT version FROM ${quotedSchema(tenant.id)}.template_migrations ORDER BY version`,
    );
    expect(history.rows.map((row) => row.version)).toEqual(
      TENANT_TEMPLATE_MIGRATIONS.map((_, index) => index + 1),
    );
    expect(await countRows(tenant.id, 'countries')).toBe(COUNTRIES.length);
    expect(await countRows(tenant.id, 'currencies')).toBe(CURRENCIES.length);

    // One DNS record set with one value, over DNS and in PowerDNS's own store.
    expect(await resolveRecords(servers.powerDns, hostname(tenant.slug), 'A')).toEqual([
      '127.0.0.1',
    ]);
    expect(await apiRecordSets(tenant.slug)).toEqual([{ type: 'A', values: ['127.0.0.1'] }]);

    // One certificate: the one the first case's worker had issued before it was killed, with
    // its order; a second order would have left another row, order URL or serial. (When that
    // case is filtered out, at least: one row, issued.)
    expect(await certificateRows()).toEqual([
      certificateAtKill ?? expect.objectContaining({ status: 'issued' }),
    ]);

    // One S3 object under the tenant's prefix: the marker.
    expect(await storageKeys(tenant.id)).toEqual([`${tenant.id}/.tenant.json`]);

    // One welcome mail, the outbox row's, sent once.
    const mails = mailsTo(tenant.adminEmail);
    expect(mails).toHaveLength(1);
    const outbox = await outboxRows(tenant.id);
    expect(outbox).toEqual([
      {
        status: 'sent',
        attempts: 1,
        message_id: mails[0].messageId,
        recipient: tenant.adminEmail,
      },
    ]);

    await expectOneAdminWithWorkingInvite(tenant, mails[0]);
  };

  /** One admin without a password and one unused invite, which the mailed link spends. */
  const expectOneAdminWithWorkingInvite = async (tenant: CreatedTenant, mail: CapturedMail) => {
    const users = await db.query<{ email: string; role: string; has_password: boolean }>(
      `SELECT email, role, password_hash IS NOT NULL AS has_password
         FROM ${quotedSchema(tenant.id)}.users`,
    );
    expect(users.rows).toEqual([{ email: tenant.adminEmail, role: 'admin', has_password: false }]);
    expect(await countRows(tenant.id, 'user_invites')).toBe(1);
    expect(await countRows(tenant.id, 'user_invites', 'used_at IS NULL')).toBe(1);

    const link = INVITE_LINK.exec(mail.text);
    expect(link?.[1]).toBe(tenant.slug);
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const accepted = await request(platform.dataPlaneUrl)
      .post('/api/auth/accept-invite')
      .set('Host', hostname(tenant.slug))
      .send({ token: link?.[2], password });
    expect(accepted.status).toBe(200);
    expect(accepted.body.accessToken).toEqual(expect.any(String));
    const login = await request(platform.dataPlaneUrl)
      .post('/api/auth/login')
      .set('Host', hostname(tenant.slug))
      .send({ email: tenant.adminEmail, password });
    expect(login.status).toBe(200);
  };

  beforeAll(async () => {
    servers = await startOnboardingServers();
    platform = await startPlatform({
      withoutWorker: true,
      controlPlaneEnv: { ...servers.controlPlaneEnv, QUEUE_LOCK_DURATION_MS: '1000' },
    });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    s3 = new S3Client({
      endpoint: servers.s3.endpoint,
      region: servers.s3.region,
      forcePathStyle: true,
      credentials: {
        accessKeyId: servers.s3.accessKeyId,
        secretAccessKey: servers.s3.secretAccessKey,
      },
    });
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) await killHard(worker.child);
    s3?.destroy();
    await db?.end();
    await platform?.stop();
    await servers?.stop();
  });

  it('has a crash case for every step of the pipeline', () => {
    expect([...CRASH_STEPS].sort()).toEqual([...PROVISIONING_STEP_NAMES].sort());
    expect(CRASH_STEPS[0]).toBe('certificate');
  });

  it.each(CRASH_STEPS)(
    'ends active with everything once after a kill during %s',
    async (step) => {
      const slug = `crash-${step}-${randomBytes(3).toString('hex')}`;
      const schemasBefore = await tenantSchemaCount();
      if (step === 'certificate') expect(await certificateRows()).toEqual([]);

      const held = heldWorker(step);
      const tenant = await createTenant(slug);
      const recordWhileHeld = RECORDED_WITH_THEIR_WORK.includes(step) ? 'succeeded' : 'running';
      await waitFor(
        `${step} held`,
        async () =>
          held.output().includes('fault injection: holding') &&
          (await stepRow(tenant.id, step))?.status === recordWhileHeld,
        30_000,
        held.output,
      );
      // The work is there and the runner has not recorded it: a crash now is one the step must
      // absorb. (Activation's record went with its work: the tenant reads active, step done.)
      expect(await workDone[step](tenant)).toBe(true);
      expect(await stepRow(tenant.id, step)).toEqual({ status: recordWhileHeld, attempts: 1 });
      if (step === 'certificate') {
        const rows = await certificateRows();
        expect(rows).toEqual([
          expect.objectContaining({ status: 'issued', order_url: expect.any(String) }),
        ]);
        certificateAtKill = rows[0];
      }
      await killHard(held.child);

      const fresh = startWorker();
      try {
        await waitUntilOnboarded(tenant, fresh);
        const next = CRASH_STEPS[CRASH_STEPS.indexOf(step) + 1];
        if (next) earlyHeldWorkers.set(next, heldWorker(next));
        await expectOnboardedOnce(tenant, step, schemasBefore);
      } finally {
        await stopGracefully(fresh.child);
      }
    },
    90_000,
  );

  it('sends the welcome mail once when the worker dies before the SMTP server accepted it', async () => {
    const slowSmtp = await startSmtpCapture({ acceptDelayMs: SLOW_ACCEPT_MS });
    const watcher = await startDataWatcher(slowSmtp.port);
    try {
      const schemasBefore = await tenantSchemaCount();
      const smtpThroughWatcher = { SMTP_URL: watcher.url };
      const sender = startWorker(smtpThroughWatcher);
      const tenant = await createTenant(`crash-relay-${randomBytes(3).toString('hex')}`);
      await waitFor(
        'the welcome mail in flight',
        async () => watcher.completeMessages() === 1,
        30_000,
        sender.output,
      );
      // The server has the whole message and owes the 250; the relay holds the row locked.
      expect(slowSmtp.messages).toEqual([]);
      expect(await outboxRowLocked(tenant.id)).toBe(true);
      await killHard(sender.child);
      // The dead worker's transaction rolled back: the mail is still to be sent.
      await waitFor('the outbox row unlocked', async () => !(await outboxRowLocked(tenant.id)));
      expect(await outboxRows(tenant.id)).toEqual([
        expect.objectContaining({ status: 'pending', attempts: 0 }),
      ]);
      expect(await stepRow(tenant.id, 'welcome-mail')).toEqual({
        status: 'running',
        attempts: 1,
      });

      const fresh = startWorker(smtpThroughWatcher);
      try {
        await waitUntilOnboarded(tenant, fresh);
      } finally {
        await stopGracefully(fresh.child);
      }
      // The server got the message twice and accepted it once: the second time. By then the
      // first copy's delay had run out long ago and it was refused, its client being gone.
      expect(watcher.completeMessages()).toBe(2);
      expect(slowSmtp.messages.map((mail) => mail.to)).toEqual([[tenant.adminEmail]]);
      const [outbox] = await outboxRows(tenant.id);
      expect(outbox).toMatchObject({ status: 'sent', attempts: 1 });
      expect(slowSmtp.messages[0].messageId).toBe(outbox.message_id);
      expect(mailsTo(tenant.adminEmail)).toEqual([]);

      const steps = (await view(tenant.id)).provisioningSteps;
      expect(steps.find((s) => s.step === 'welcome-mail')).toMatchObject({
        status: 'succeeded',
        attempts: 2,
      });
      expect(await tenantSchemaCount()).toBe(schemasBefore + 1);
      await expectOneAdminWithWorkingInvite(tenant, slowSmtp.messages[0]);
    } finally {
      await watcher.stop();
      await slowSmtp.stop();
    }
  }, 90_000);
});
