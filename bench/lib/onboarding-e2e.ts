/**
 * The whole onboarding saga against the local outside systems: `startOnboardingServers()`
 * (PowerDNS, Pebble, s3rver, SMTP capture) and `startPlatform()` (its own database, control
 * plane, one worker and the data plane in this process), plus optional worker processes. One
 * tenant goes first, untimed, so the one shared wildcard certificate is ordered before the
 * measured batch (every later tenant finds it); then `tenants` POST /v1/tenants are sent at once
 * and the bench waits until each is `active` and its welcome mail has reached the SMTP server.
 * Per-step times come from the registry (platform.provisioning_steps).
 */
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { freePort } from '@platform/testing';
import { killHard, spawnWorker } from '../../apps/control-plane/test/fleet-helpers';
import { startOnboardingServers, type OnboardingServers } from '../../test/onboarding-servers';
import { PLATFORM_DOMAIN, startPlatform, type RunningPlatform } from '../../test/platform-harness';
import { readCpuMs, readPostgresCpuMs } from './child-server';
import { sleep } from './concurrency';
import { readMachineBusyMs } from './fleet-runs';
import { sampleStats, type SampleStats } from './sample-stats';

const POLL_MS = 100;
const WORKER_START_TIMEOUT_MS = 90_000;
/** Jobs one worker runs at once (ProvisionTenantProcessor's concurrency). */
const JOBS_PER_WORKER = 4;

type Log = (line: string) => void;

export interface StepTimes {
  readonly step: string;
  /** platform.provisioning_steps.duration_ms (the worker's wall time around the step). */
  readonly durationMs: SampleStats;
  readonly statuses: Record<string, number>;
  /** Tenants for which the step needed more than one attempt. */
  readonly retried: number;
}

export interface E2eResult {
  readonly tenants: number;
  readonly workers: { inProcess: number; processes: number; jobsEach: number };
  readonly warmPool: number;
  /** The untimed first tenant, which orders the shared wildcard certificate. */
  readonly firstTenantSeconds: number;
  /** Until every POST of the batch had its 202. */
  readonly submitSeconds: number;
  /** First POST until the last tenant is active and its welcome mail received. */
  readonly wallSeconds: number;
  readonly tenantsPerMinute: number;
  readonly timeToActiveMs: SampleStats;
  readonly timeToMailMs: SampleStats;
  /** POST until its job started the first step (time in the queue). */
  readonly queueWaitMs: SampleStats;
  /** Tenants whose schema came from the warm pool (its steps ran before the POST). */
  readonly claimedFromPool: number;
  readonly steps: readonly StepTimes[];
  readonly slowestStep: string;
  readonly cpuSeconds: {
    benchProcess: number;
    postgres: number;
    workerProcesses: number;
    machine: number;
  };
  readonly loadAverageAtStart: number;
}

interface Submitted {
  readonly slug: string;
  readonly submittedAt: number;
}

async function waitForHealth(port: number, worker: ChildProcess, output: () => string) {
  const deadline = Date.now() + WORKER_START_TIMEOUT_MS;
  for (;;) {
    if (worker.exitCode !== null) throw new Error(`worker exited at start:\n${output()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/live`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`worker not live within 90 s:\n${output()}`);
    await sleep(250);
  }
}

async function post(platform: RunningPlatform, slug: string): Promise<void> {
  const response = await fetch(`${platform.controlPlaneUrl}/v1/tenants`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${platform.adminToken}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ slug, name: `Tenant ${slug}`, adminEmail: `admin@${slug}.test` }),
    signal: AbortSignal.timeout(60_000),
  });
  if (response.status !== 202) {
    throw new Error(`POST /v1/tenants ${slug}: ${response.status} ${await response.text()}`);
  }
}

/** Polls the registry until every tenant with the prefix has left `provisioning`. */
async function waitUntilSettled(db: Client, prefix: string, count: number, deadline: number) {
  for (;;) {
    const { rows } = await db.query<{ active: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'active')::int AS active,
              count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM platform.tenants WHERE starts_with(slug, $1)`,
      [prefix],
    );
    const { active, failed } = rows[0];
    if (failed > 0) {
      const reasons = await db.query<{ slug: string; status_reason: string }>(
        `SELECT slug, status_reason FROM platform.tenants
          WHERE starts_with(slug, $1) AND status = 'failed' LIMIT 3`,
        [prefix],
      );
      throw new Error(`${failed} tenant(s) failed: ${JSON.stringify(reasons.rows)}`);
    }
    if (active === count) return;
    if (Date.now() > deadline) throw new Error(`only ${active}/${count} active at the deadline`);
    await sleep(POLL_MS);
  }
}

async function waitForPool(db: Client, size: number, deadline: number): Promise<void> {
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM platform.tenants WHERE status = 'pooled'`,
    );
    if (rows[0]?.n >= size) return;
    if (Date.now() > deadline) throw new Error(`warm pool: ${rows[0]?.n}/${size} at the deadline`);
    await sleep(POLL_MS * 5);
  }
}

export async function runOnboardingE2e(
  options: {
    tenants: number;
    extraWorkers: number;
    timeoutSeconds: number;
    /** PROVISIONING_ATTEMPTS / PROVISIONING_BACKOFF_MS (the harness's own are 2 / 50 ms). */
    attempts: number;
    backoffMs: number;
    /** WARM_POOL_SIZE of the platform; the batch starts once that many schemas are pooled. */
    warmPool: number;
  },
  log: Log,
): Promise<E2eResult> {
  let servers: OnboardingServers | null = null;
  let platform: RunningPlatform | null = null;
  let db: Client | null = null;
  const workers: ChildProcess[] = [];
  try {
    servers = await startOnboardingServers();
    platform = await startPlatform({
      controlPlaneEnv: {
        ...servers.controlPlaneEnv,
        PROVISIONING_ATTEMPTS: String(options.attempts),
        PROVISIONING_BACKOFF_MS: String(options.backoffMs),
        WARM_POOL_SIZE: String(options.warmPool),
        WARM_POOL_REFILL_INTERVAL_MS: '500',
      },
    });
    for (let i = 0; i < options.extraWorkers; i += 1) {
      const port = await freePort();
      const worker = spawnWorker({
        ...process.env,
        ...platform.controlPlaneEnv,
        LOG_LEVEL: 'warn',
        WORKER_PORT: String(port),
      });
      workers.push(worker.child);
      await waitForHealth(port, worker.child, worker.output);
    }
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    log(
      `  platform up (database ${platform.database.name}), ` +
        `${1 + workers.length} worker(s) x ${JOBS_PER_WORKER} jobs`,
    );

    const tag = Date.now().toString(36);
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    const firstStarted = Date.now();
    const first = `obf-${tag}`;
    await post(platform, first);
    await waitUntilSettled(db, first, 1, deadline);
    await servers.smtp.waitForMessages(1, Math.max(1, deadline - Date.now()));
    const firstTenantSeconds = (Date.now() - firstStarted) / 1000;
    log(`  first tenant (orders the wildcard certificate): ${firstTenantSeconds.toFixed(1)} s`);

    if (options.warmPool > 0) {
      await waitForPool(db, options.warmPool, deadline);
      log(`  warm pool: ${options.warmPool} schemas pooled`);
    }

    const prefix = `obe-${tag}-`;
    const slugs = Array.from({ length: options.tenants }, (_, i) => `${prefix}${i}`);
    const loadAverageAtStart = loadavg()[0] ?? 0;
    const cpuBefore = {
      bench: readCpuMs(process.pid),
      postgres: readPostgresCpuMs(),
      workers: workers.reduce((sum, worker) => sum + readCpuMs(worker.pid!), 0),
      machine: readMachineBusyMs(),
    };
    const submitted: Submitted[] = [];
    const batchStarted = Date.now();
    const running = platform;
    await Promise.all(
      slugs.map(async (slug) => {
        submitted.push({ slug, submittedAt: Date.now() });
        await post(running, slug);
      }),
    );
    const submitSeconds = (Date.now() - batchStarted) / 1000;
    log(`  ${slugs.length} tenants posted in ${submitSeconds.toFixed(1)} s; waiting for the saga`);
    await waitUntilSettled(db, prefix, slugs.length, deadline);
    const mails = await servers.smtp.waitForMessages(
      slugs.length + 1,
      Math.max(1, deadline - Date.now()),
    );
    const cpuSeconds = {
      benchProcess: (readCpuMs(process.pid) - cpuBefore.bench) / 1000,
      postgres: (readPostgresCpuMs() - cpuBefore.postgres) / 1000,
      workerProcesses:
        workers.reduce((sum, worker) => sum + readCpuMs(worker.pid!), 0) / 1000 -
        cpuBefore.workers / 1000,
      machine: (readMachineBusyMs() - cpuBefore.machine) / 1000,
    };

    const mailAt = new Map<string, number>();
    for (const mail of mails) {
      for (const recipient of mail.to) {
        const slug = /^admin@(.+)\.test$/.exec(recipient)?.[1];
        if (slug && !mailAt.has(slug)) {
          if (!mail.text.includes(`https://${slug}.${PLATFORM_DOMAIN}/welcome?token=`)) {
            throw new Error(`welcome mail of ${slug} has no invite link`);
          }
          mailAt.set(slug, mail.receivedAt.getTime());
        }
      }
    }
    // A tenant that claimed a pooled schema had its schema steps run before its POST (and its
    // created_at set at the claim): its queue wait is until the first step after the claim.
    const { rows: tenants } = await db.query<{
      slug: string;
      activated_at: Date;
      first_step: Date;
      from_pool: boolean;
    }>(
      `SELECT t.slug, t.activated_at,
              (SELECT min(s.started_at) FROM platform.provisioning_steps s
                WHERE s.tenant_id = t.id AND s.started_at >= t.created_at) AS first_step,
              EXISTS (SELECT 1 FROM platform.provisioning_steps s
                       WHERE s.tenant_id = t.id AND s.step = 'create-schema'
                         AND s.started_at < t.created_at) AS from_pool
         FROM platform.tenants t WHERE starts_with(t.slug, $1)`,
      [prefix],
    );
    const bySlug = new Map(tenants.map((row) => [row.slug, row]));
    const toActive: number[] = [];
    const toMail: number[] = [];
    const queueWait: number[] = [];
    let lastDone = 0;
    for (const { slug, submittedAt } of submitted) {
      const row = bySlug.get(slug);
      const mailed = mailAt.get(slug);
      if (!row?.activated_at || mailed === undefined) {
        throw new Error(`${slug}: active ${String(row?.activated_at)}, mail ${String(mailed)}`);
      }
      toActive.push(row.activated_at.getTime() - submittedAt);
      toMail.push(mailed - submittedAt);
      queueWait.push(row.first_step.getTime() - submittedAt);
      lastDone = Math.max(lastDone, row.activated_at.getTime(), mailed);
    }
    const wallSeconds = (lastDone - batchStarted) / 1000;

    const { rows: stepRows } = await db.query<{
      step: string;
      position: number;
      status: string;
      duration_ms: number | null;
      attempts: number;
    }>(
      `SELECT s.step, s.position, s.status, s.duration_ms, s.attempts
         FROM platform.provisioning_steps s JOIN platform.tenants t ON t.id = s.tenant_id
        WHERE starts_with(t.slug, $1) ORDER BY s.position`,
      [prefix],
    );
    const names = [...new Set(stepRows.map((row) => row.step))];
    const steps = names.map((step): StepTimes => {
      const rows = stepRows.filter((row) => row.step === step);
      const statuses: Record<string, number> = {};
      for (const row of rows) statuses[row.status] = (statuses[row.status] ?? 0) + 1;
      return {
        step,
        durationMs: sampleStats(rows.map((row) => row.duration_ms ?? 0)),
        statuses,
        retried: rows.filter((row) => row.attempts > 1).length,
      };
    });
    const notRun = steps.filter((step) => step.statuses.succeeded !== slugs.length);
    if (notRun.length > 0) {
      // A skipped step means an outside system was off: not the whole saga.
      throw new Error(
        `steps not succeeded for every tenant: ${notRun.map((s) => `${s.step} ${JSON.stringify(s.statuses)}`).join(', ')}`,
      );
    }
    const slowest = [...steps].sort((a, b) => b.durationMs.mean - a.durationMs.mean)[0];
    return {
      tenants: slugs.length,
      workers: { inProcess: 1, processes: workers.length, jobsEach: JOBS_PER_WORKER },
      warmPool: options.warmPool,
      firstTenantSeconds,
      submitSeconds,
      wallSeconds,
      tenantsPerMinute: (slugs.length / wallSeconds) * 60,
      timeToActiveMs: sampleStats(toActive),
      timeToMailMs: sampleStats(toMail),
      queueWaitMs: sampleStats(queueWait),
      claimedFromPool: tenants.filter((row) => row.from_pool).length,
      steps,
      slowestStep: slowest?.step ?? 'none',
      cpuSeconds,
      loadAverageAtStart,
    };
  } finally {
    for (const worker of workers) await killHard(worker);
    await db?.end();
    await platform?.stop();
    await servers?.stop();
  }
}
