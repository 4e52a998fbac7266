/**
 * Issue 7, "Tenant-scoped everything else": a job always runs inside its tenant's context, and
 * a job for a deleted or suspended tenant does nothing and says so (common/tenant-job.ts).
 *
 * Against the real worker, with an SMTP capture for mail and a DNS server that knows no name
 * (every verification check fails fast, for "record missing"), jobs are caught while they wait
 * or run:
 * - onboarding whose job waits in Redis while the tenant is deleted: nothing is created, every
 *   step is recorded skipped with the reason;
 * - onboarding deleted mid-run (PROVISIONING_FAULT_HOLD keeps the worker inside admin-invite):
 *   the steps after it are skipped, and the welcome mail already in the outbox is never sent
 *   but marked `skipped` with the reason;
 * - a suspended tenant's mail is held and goes out after the resume; an active tenant's mail
 *   goes out (the control);
 * - custom-domain verification stops for a suspended tenant, and no certificate is ordered for
 *   it (the control: for an active tenant the same job reaches the issuer);
 * - a domain job naming one tenant and another tenant's domain touches nothing.
 *
 * The outbox poller is slowed to once an hour so the tests drive the relay themselves.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Client } from 'pg';
import { startSmtpCapture, type SmtpCapture } from '@platform/testing';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';
import { MetricsRegistry } from '@platform/observability';
import { CertificateRenewal } from '../src/certificates/certificate-renewal.service';
import { TenantJobs } from '../src/common/tenant-job';
import { DOMAINS_QUEUE, DomainsQueue, type DomainJob } from '../src/domains/domains.queue';
import { OutboxRelay } from '../src/outbox/outbox-relay.service';
import { PROVISIONING_QUEUE } from '../src/provisioning/provisioning.queue';

const HOLD_STEP = 'admin-invite';
const STEPS_AFTER_HOLD = ['welcome-mail', 'activate'];
const ALL_STEPS = [
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

const suffix = () => randomBytes(3).toString('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A DNS server on 127.0.0.1 that answers every query NXDOMAIN: no customer record exists. */
async function startNxDomainServer(): Promise<{ address: string; socket: Socket }> {
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    // Header (12 bytes), then the question: labels up to a zero byte, type and class.
    let end = 12;
    while (end < query.length && query[end] !== 0) end += query[end] + 1;
    end += 5;
    if (end > query.length) return;
    const answer = Buffer.from(query.subarray(0, end));
    answer.writeUInt16BE(0x8183, 2); // response, recursion desired and available, NXDOMAIN
    answer.writeUInt16BE(1, 4);
    answer.writeUInt32BE(0, 6); // no answers, no authority
    answer.writeUInt16BE(0, 10); // no additional records
    socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${socket.address().port}`, socket };
}

interface StepRow {
  step: string;
  status: string;
  last_error: string | null;
}

interface OutboxRowView {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  body_text: string | null;
  next_attempt_at: Date;
}

interface DomainRow {
  id: string;
  tenant_id: string;
  status: string;
  verification_error: string | null;
  last_checked_at: Date | null;
}

let smtp: SmtpCapture;
let dns: { address: string; socket: Socket };
let platform: RunningPlatform;
let db: Client;
let alpha: { id: string; slug: string };
let beta: { id: string; slug: string };

beforeAll(async () => {
  smtp = await startSmtpCapture();
  dns = await startNxDomainServer();
  platform = await startPlatform({
    controlPlaneEnv: {
      MAIL_PROVIDER: 'smtp',
      SMTP_URL: smtp.url,
      SMTP_IGNORE_TLS: 'true',
      OUTBOX_POLL_INTERVAL_MS: '3600000',
      PROVISIONING_FAULT_HOLD: `${HOLD_STEP}:2000`,
      CUSTOM_DOMAIN_DNS_SERVERS: dns.address,
      CUSTOM_DOMAIN_VERIFY_RETRY_MS: '300',
    },
  });
  db = new Client({ connectionString: platform.database.url });
  await db.connect();
  [alpha, beta] = await Promise.all([
    platform.createTenant(`alpha-${suffix()}`),
    platform.createTenant(`beta-${suffix()}`),
  ]);
}, 60_000);

afterAll(async () => {
  await db?.end();
  await platform?.stop();
  await smtp?.stop();
  dns?.socket.close();
});

const admin = () => ({ Authorization: `Bearer ${platform.adminToken}` });
const relay = () => platform.worker!.get(OutboxRelay);
/** The worker's TenantJobs logger (private), to see the line a refused job writes. */
interface WithLogger {
  logger: { log: (...args: unknown[]) => void };
}
const jobLogger = () => platform.worker!.get<TenantJobs, WithLogger>(TenantJobs).logger;
const mailsTo = (email: string) => smtp.messages.filter((mail) => mail.to.includes(email));

async function steps(tenantId: string): Promise<Record<string, StepRow>> {
  const { rows } = await db.query<StepRow>(
    'SELECT step, status, last_error FROM platform.provisioning_steps WHERE tenant_id = $1',
    [tenantId],
  );
  return Object.fromEntries(rows.map((row) => [row.step, row]));
}

async function outboxOf(tenantId: string): Promise<OutboxRowView[]> {
  const { rows } = await db.query<OutboxRowView>(
    `SELECT id, status, attempts, last_error, body_text, next_attempt_at
       FROM platform.outbox WHERE tenant_id = $1 ORDER BY created_at`,
    [tenantId],
  );
  return rows;
}

async function domainRow(id: string): Promise<DomainRow> {
  const { rows } = await db.query<DomainRow>(
    `SELECT id, tenant_id, status, verification_error, last_checked_at
       FROM platform.tenant_domains WHERE id = $1`,
    [id],
  );
  return rows[0];
}

async function schemaExists(tenantId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [
    `t_${tenantId.replace(/-/g, '')}`,
  ]);
  return rows.length === 1;
}

async function lifecycle(tenantId: string, action: 'suspend' | 'resume'): Promise<void> {
  await platform.api().post(`/v1/tenants/${tenantId}/${action}`).set(admin()).expect(200);
}

async function domainJobsFor(domainId: string): Promise<number> {
  const queue = platform.worker!.get<Queue<DomainJob>>(getQueueToken(DOMAINS_QUEUE));
  const jobs = await queue.getJobs(['waiting', 'delayed', 'active']);
  return jobs.filter((job) => job?.data.domainId === domainId).length;
}

describe('provisioning', () => {
  it('a job that waited in the queue while its tenant was deleted creates nothing', async () => {
    const queue = platform.worker!.get<Queue>(getQueueToken(PROVISIONING_QUEUE));
    const said = jest.spyOn(jobLogger(), 'log');
    // This worker takes no provisioning job until resumed: the next one waits in Redis.
    await queue.pause(true);
    let tenantId: string;
    try {
      const slug = `queued-${suffix()}`;
      const created = await platform
        .api()
        .post('/v1/tenants')
        .set(admin())
        .send({ slug, name: slug, adminEmail: `admin@${slug}.test` })
        .expect(202);
      tenantId = created.body.id as string;
      expect(await queue.getJob(`provision:${tenantId}`)).not.toBeNull();
      await platform.api().delete(`/v1/tenants/${tenantId}`).set(admin()).expect(200);
    } finally {
      await queue.resume(true);
    }
    const recorded = await eventually('every step recorded skipped', async () => {
      const rows = await steps(tenantId);
      return Object.values(rows).every((row) => row.status === 'skipped') ? rows : undefined;
    });
    expect(Object.keys(recorded).sort()).toEqual([...ALL_STEPS].sort());
    for (const row of Object.values(recorded)) {
      expect(row.last_error).toBe('not run: the tenant is deleted');
    }
    expect(await schemaExists(tenantId)).toBe(false);
    expect(await outboxOf(tenantId)).toEqual([]);
    await platform.waitForStatus(tenantId, 'deleted');
    // One line names the job, the tenant and the reason.
    expect(said).toHaveBeenCalledWith(
      {
        job: 'provision-tenant',
        tenantId: tenantId!,
        status: 'deleted',
        reason: 'the tenant is deleted',
      },
      `provision-tenant for tenant ${tenantId!} does nothing: the tenant is deleted`,
    );
    said.mockRestore();
  });

  it('a tenant deleted mid-onboarding stops at the next step; its welcome mail is skipped, never sent', async () => {
    const slug = `gone-${suffix()}`;
    const email = `admin@${slug}.test`;
    const created = await platform
      .api()
      .post('/v1/tenants')
      .set(admin())
      .send({ slug, name: slug, adminEmail: email })
      .expect(202);
    const tenantId = created.body.id as string;
    // The worker holds inside admin-invite, after the invite and the outbox row were written.
    await eventually('admin-invite running', async () =>
      (await steps(tenantId))[HOLD_STEP]?.status === 'running' ? true : undefined,
    );
    await platform.api().delete(`/v1/tenants/${tenantId}`).set(admin()).expect(200);

    const recorded = await eventually('the rest of onboarding recorded skipped', async () => {
      const rows = await steps(tenantId);
      return STEPS_AFTER_HOLD.every((step) => rows[step].status === 'skipped') ? rows : undefined;
    });
    // The step in flight finished (its work was done); nothing after it ran.
    expect(recorded[HOLD_STEP].status).toBe('succeeded');
    for (const step of STEPS_AFTER_HOLD) {
      expect(recorded[step].last_error).toBe('not run: the tenant is deleted');
    }
    await platform.waitForStatus(tenantId, 'deleted');

    // The welcome mail is in the outbox, pending; the relay must not send it.
    const [pending] = await outboxOf(tenantId);
    expect(pending).toMatchObject({ status: 'pending' });
    await relay().deliverDue();
    const [skipped] = await outboxOf(tenantId);
    expect(skipped).toMatchObject({
      status: 'skipped',
      last_error: 'not sent: the tenant is deleted',
      // The live invite link goes with the body.
      body_text: null,
      attempts: 0,
    });
    expect(mailsTo(email)).toEqual([]);
    // Ops see why, in the tenant's mail list.
    const list = await platform.api().get(`/v1/tenants/${tenantId}/mail`).set(admin()).expect(200);
    expect(list.body).toEqual([
      expect.objectContaining({ status: 'skipped', lastError: 'not sent: the tenant is deleted' }),
    ]);
    // A later round leaves it alone.
    await relay().deliverDue();
    expect(mailsTo(email)).toEqual([]);
  });

  it('onboarding of an active tenant ran to the end and mailed its admin (the control)', async () => {
    const recorded = await steps(alpha.id);
    expect(recorded['welcome-mail'].status).toBe('succeeded');
    expect(recorded.activate.status).toBe('succeeded');
    expect(mailsTo(`admin@${alpha.slug}.test`)).toHaveLength(1);
  });
});

describe('outbox mail', () => {
  it('an active tenant’s resent welcome mail goes out', async () => {
    const email = `admin@${alpha.slug}.test`;
    await platform.api().post(`/v1/tenants/${alpha.id}/welcome-mail`).set(admin()).expect(202);
    expect(await relay().deliverDue()).toBe(1);
    expect(mailsTo(email)).toHaveLength(2);
    expect((await outboxOf(alpha.id)).map((row) => row.status)).toEqual(['sent', 'sent']);
  });

  it('a suspended tenant’s mail is held, says why, and goes out after the resume', async () => {
    const email = `admin@${beta.slug}.test`;
    const sentBefore = mailsTo(email).length;
    await platform.api().post(`/v1/tenants/${beta.id}/welcome-mail`).set(admin()).expect(202);
    await lifecycle(beta.id, 'suspend');
    try {
      expect(await relay().deliverDue()).toBe(0);
      const held = (await outboxOf(beta.id)).at(-1)!;
      expect(held).toMatchObject({
        status: 'pending',
        attempts: 0,
        last_error: 'held: the tenant is suspended; sent once it is resumed',
      });
      expect(held.next_attempt_at.getTime()).toBeGreaterThan(Date.now());
      expect(mailsTo(email)).toHaveLength(sentBefore);
    } finally {
      await lifecycle(beta.id, 'resume');
    }
    // Instead of waiting out the hold.
    await db.query(
      `UPDATE platform.outbox SET next_attempt_at = now() WHERE tenant_id = $1 AND status = 'pending'`,
      [beta.id],
    );
    expect(await relay().deliverDue()).toBe(1);
    expect(mailsTo(email)).toHaveLength(sentBefore + 1);
    expect((await outboxOf(beta.id)).at(-1)).toMatchObject({ status: 'sent', last_error: null });
  });
});

describe('custom domains', () => {
  async function addDomain(tenantId: string): Promise<{ id: string; tenantId: string }> {
    const hostname = `shop-${suffix()}.customer.test`;
    await platform
      .api()
      .post(`/v1/tenants/${tenantId}/domains`)
      .set(admin())
      .send({ hostname })
      .expect(201);
    const { rows } = await db.query<{ id: string }>(
      'SELECT id FROM platform.tenant_domains WHERE hostname = $1',
      [hostname],
    );
    return { id: rows[0].id, tenantId };
  }

  it('verification stops for a suspended tenant, saying why, and checks nothing more', async () => {
    const domain = await addDomain(alpha.id);
    // The control: while alpha is active, checks run (no record found) and keep coming.
    const checked = await eventually('a first check', async () => {
      const row = await domainRow(domain.id);
      return row.last_checked_at && row.verification_error ? row : undefined;
    });
    expect(checked.verification_error).not.toMatch(/suspended/);
    await lifecycle(alpha.id, 'suspend');
    try {
      const stopped = await eventually('the chain stopped', async () => {
        const row = await domainRow(domain.id);
        return row.verification_error?.includes('suspended') ? row : undefined;
      });
      expect(stopped).toMatchObject({
        status: 'pending_verification',
        verification_error: 'verification stopped: the tenant is suspended',
      });
      // The refused job itself may still be finishing; none comes after it.
      await eventually('the refused job to end', async () =>
        (await domainJobsFor(domain.id)) === 0 ? true : undefined,
      );
      // Nothing looks at it again (the retry delay is 300 ms, doubling).
      await sleep(1_500);
      expect(await domainRow(domain.id)).toEqual(stopped);
      expect(await domainJobsFor(domain.id)).toBe(0);
    } finally {
      await lifecycle(alpha.id, 'resume');
    }
  });

  it('no certificate is ordered for a suspended tenant; for an active one the job reaches the issuer', async () => {
    const domains = platform.controlPlane.get(DomainsQueue);
    const suspendedDomain = await addDomain(beta.id);
    const activeDomain = await addDomain(alpha.id);
    for (const domain of [suspendedDomain, activeDomain]) {
      // As if its DNS had checked out.
      await db.query(
        `UPDATE platform.tenant_domains SET status = 'verified', verification_error = NULL
          WHERE id = $1`,
        [domain.id],
      );
    }
    await lifecycle(beta.id, 'suspend');
    try {
      await domains.issueCertificate(suspendedDomain);
      await domains.issueCertificate(activeDomain);
      const refused = await eventually('the suspended tenant’s order refused', async () => {
        const row = await domainRow(suspendedDomain.id);
        return row.status === 'certificate_failed' ? row : undefined;
      });
      expect(refused.verification_error).toBe('no certificate ordered: the tenant is suspended');
      // The control: the active tenant's job ran as far as the issuer, which is off here.
      const reached = await eventually('the active tenant’s job to run', async () => {
        const row = await domainRow(activeDomain.id);
        return row.status === 'certificate_failed' ? row : undefined;
      });
      expect(reached.verification_error).toBe('certificates are off (ACME_DIRECTORY_URL unset)');
      const orders = await db.query(
        'SELECT 1 FROM platform.certificates WHERE tenant_id = ANY($1::uuid[])',
        [[alpha.id, beta.id]],
      );
      expect(orders.rows).toEqual([]);
    } finally {
      await lifecycle(beta.id, 'resume');
    }
  });

  it('a domain job that names one tenant and another tenant’s domain touches nothing', async () => {
    const domain = await addDomain(alpha.id);
    await eventually('a first check', async () =>
      (await domainRow(domain.id)).last_checked_at ? true : undefined,
    );
    await db.query(
      `UPDATE platform.tenant_domains SET status = 'verified', verification_error = NULL
        WHERE id = $1`,
      [domain.id],
    );
    const before = await domainRow(domain.id);
    const domains = platform.controlPlane.get(DomainsQueue);
    // beta's job, alpha's domain id.
    await domains.issueCertificate({ id: domain.id, tenantId: beta.id });
    await domains.verify({ id: domain.id, tenantId: beta.id });
    // And a job for a tenant that does not exist.
    await domains.verify({ id: domain.id, tenantId: randomUUID() });
    await eventually('the jobs to finish', async () =>
      (await domainJobsFor(domain.id)) === 0 ? true : undefined,
    );
    expect(await domainRow(domain.id)).toEqual(before);
  });
});

describe('certificate renewal round', () => {
  it('watches only served certificates: a deleted tenant’s is left to expire without an alert', async () => {
    const slug = `expired-${suffix()}`;
    const deleted = await platform.createTenant(slug);
    await platform.api().delete(`/v1/tenants/${deleted.id}`).set(admin()).expect(200);
    const servedHost = `served-${suffix()}.customer.test`;
    await db.query(
      `INSERT INTO platform.tenant_domains (tenant_id, hostname, kind, status)
       VALUES ($1, $2, 'custom', 'active')`,
      [alpha.id, servedHost],
    );
    const soon = new Date(Date.now() + 86_400_000);
    for (const [tenantId, subject] of [
      [deleted.id, `gone-${suffix()}.customer.test`],
      [alpha.id, servedHost],
    ]) {
      await db.query(
        `INSERT INTO platform.certificates
           (id, subject, names, tenant_id, status, private_key_encrypted, not_before, not_after)
         VALUES ($1, $2, ARRAY[$2], $3, 'issued', 'not a key', now() - interval '80 days', $4)`,
        [randomUUID(), subject, tenantId, soon],
      );
    }
    await platform.worker!.get(CertificateRenewal).renewDue();
    const gauge = await platform
      .worker!.get(MetricsRegistry)
      .registry.getSingleMetricAsString('certificates_expiring_soon');
    // Alpha's served certificate alone: the deleted tenant's is not renewed and not alerted on.
    expect(gauge).toMatch(/^certificates_expiring_soon 1$/m);
  });
});
