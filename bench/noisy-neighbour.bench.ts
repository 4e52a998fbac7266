/**
 * `npm run bench:noisy`: can one tenant flooding the API starve another? One data plane, two
 * tenants with their plans' limits: the victim (pro) under a fixed open-loop load, alone
 * (quiet run) and while the flooder (free) sends as fast as its connections allow (noisy run).
 * Reports the victim's p50/p99 in both runs, p99(noisy)/p99(quiet) per round and its median
 * (goal ≤ 1.5), and what the flooder got (2xx vs 429). See bench/README.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadControlPlaneConfig } from '@platform/config';
import { listenOn } from '@platform/http';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import { killAllChildren, readCpuMs, startServerChild, type ServerChild } from './lib/child-server';
import { sleep } from './lib/concurrency';
import type { FloodRequest, FloodResult } from './lib/noisy-flooder-child';
import type { OpenLoopRunRequest, OpenLoopRunResult } from './lib/open-loop-child';
import { percentile, type OpenLoopResult } from './lib/open-loop';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PLATFORM_DOMAIN = 'noisy.test';
/** Bench-only secrets: the database is made for this run and dropped after it. */
const ADMIN_TOKEN = randomBytes(24).toString('hex');
const SIGNING_KEY_ENCRYPTION_KEY = randomBytes(32).toString('hex');
const PATH = '/api/projects';
const PROJECTS = 20;
const RESULTS_FILE = join(__dirname, 'results', 'noisy-neighbour.json');

function intFrom(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw}: expected an integer between ${min} and ${max}`);
  }
  return value;
}

const settings = {
  rounds: intFrom('BENCH_NOISY_ROUNDS', 6, 1, 50),
  seconds: intFrom('BENCH_NOISY_SECONDS', 10, 1, 600),
  warmupSeconds: intFrom('BENCH_NOISY_WARMUP_S', 5, 0, 600),
  victimRate: intFrom('BENCH_NOISY_VICTIM_RATE', 100, 1, 10_000),
  victimUsers: intFrom('BENCH_NOISY_VICTIM_USERS', 4, 1, 50),
  floodConnections: intFrom('BENCH_NOISY_FLOOD_CONNECTIONS', 32, 1, 1_000),
  flooderUsers: intFrom('BENCH_NOISY_FLOODER_USERS', 3, 1, 4),
  /** Overrides the flooder's concurrentRequests (its plan's 4), e.g. 100000 to see it without. */
  flooderConcurrency: process.env.BENCH_NOISY_FLOODER_CONCURRENCY
    ? intFrom('BENCH_NOISY_FLOODER_CONCURRENCY', 4, 0, 1_000_000)
    : null,
};

const log = (line: string) => process.stdout.write(`${line}\n`);

interface Tenant {
  readonly id: string;
  readonly slug: string;
  readonly host: string;
  readonly tokens: string[];
}

interface VictimRun {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly answered: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly errorSamples: string[];
  readonly maxSendLagMs: number;
}

interface Round {
  readonly round: number;
  readonly order: string;
  readonly quiet: VictimRun;
  readonly noisy: VictimRun;
  readonly p99Ratio: number;
  readonly p50Ratio: number;
  readonly flooder: FloodResult;
  /** Data-plane CPU per second of the noisy run (ms/s: 1000 = one core busy). */
  readonly serverCpuMsPerSecondNoisy: number;
  /** Data-plane CPU per request answered (victim and flooder) in the noisy run. */
  readonly serverCpuMsPerRequestNoisy: number;
  readonly loadAverageAtStart: number;
}

/** A JSON call to 127.0.0.1 with any Host header (fetch cannot set Host). */
function call(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname: target.hostname,
        port: Number(target.port),
        method,
        path,
        headers: {
          ...headers,
          ...(payload === undefined
            ? {}
            : {
                'content-type': 'application/json',
                'content-length': String(Buffer.byteLength(payload)),
              }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function expectStatus(what: string, response: { status: number; body: unknown }, status: number) {
  if (response.status !== status) {
    throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  }
}

/** Both tenants through the real control plane (plan, users), then it is closed again. */
async function setUpTenants(database: TestDatabase, redisPrefix: string) {
  const config = loadControlPlaneConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    PLATFORM_DOMAIN,
    PLATFORM_ADMIN_TOKEN: ADMIN_TOKEN,
    SIGNING_KEY_ENCRYPTION_KEY,
    CONTROL_PLANE_HOST: '127.0.0.1',
    CONTROL_PLANE_PORT: '0',
  });
  const { createControlPlaneApp, createWorker } =
    await import('../apps/control-plane/src/control-plane.app');
  const controlPlane = await createControlPlaneApp(config);
  const worker = await createWorker(config);
  try {
    const url = `http://127.0.0.1:${await listenOn(controlPlane, 0, '127.0.0.1')}`;
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const make = async (slug: string, plan: string, users: number) => {
      const created = await call(url, 'POST', '/v1/tenants', auth, {
        slug,
        name: slug,
        adminEmail: `admin@${slug}.test`,
        plan,
      });
      expectStatus(`create ${slug}`, created, 202);
      const id = (created.body as { id: string }).id;
      for (let waited = 0; ; waited += 100) {
        const tenant = await call(url, 'GET', `/v1/tenants/${id}`, auth);
        const status = (tenant.body as { status?: string }).status;
        if (status === 'active') break;
        if (status === 'failed' || waited > 60_000) throw new Error(`${slug} is ${status}`);
        await sleep(100);
      }
      const passwords: { email: string; password: string }[] = [];
      for (let i = 1; i <= users; i++) {
        const email = `user${i}@${slug}.test`;
        const password = `pw-${randomBytes(12).toString('hex')}`;
        const user = await call(url, 'POST', `/v1/tenants/${id}/users`, auth, {
          email,
          role: 'member',
          password,
        });
        expectStatus(`user ${email}`, user, 201);
        passwords.push({ email, password });
      }
      if (plan === 'free' && settings.flooderConcurrency !== null) {
        const override = await call(url, 'PUT', `/v1/tenants/${id}/limits`, auth, {
          concurrentRequests: settings.flooderConcurrency,
        });
        expectStatus(`concurrency override of ${slug}`, override, 200);
      }
      const limits = await call(url, 'GET', `/v1/tenants/${id}/limits`, auth);
      expectStatus(`limits of ${slug}`, limits, 200);
      return { id, slug, passwords, limits: (limits.body as { effective: object }).effective };
    };
    const victim = await make('victim', 'pro', settings.victimUsers);
    const flooder = await make('flooder', 'free', settings.flooderUsers);
    return { victim, flooder };
  } finally {
    await worker.close();
    await controlPlane.close();
  }
}

async function signIn(
  dataPlane: ServerChild,
  slug: string,
  passwords: readonly { email: string; password: string }[],
): Promise<string[]> {
  const host = `${slug}.${PLATFORM_DOMAIN}`;
  const tokens: string[] = [];
  for (const { email, password } of passwords) {
    const login = await call(
      dataPlane.url,
      'POST',
      '/api/auth/login',
      { host },
      { email, password },
    );
    expectStatus(`login ${email}`, login, 200);
    tokens.push((login.body as { accessToken: string }).accessToken);
  }
  return tokens;
}

/** A bench helper in its own Node process, told what to do over IPC. */
function forkHelper(file: string): ChildProcess {
  return fork(join(__dirname, 'lib', file), [], {
    execArgv: ['-r', '@swc-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Sends one request to a helper and waits for its reply of the given type. */
function ask<TReply extends { type: string }>(
  child: ChildProcess,
  request: object,
  replyType: TReply['type'],
): Promise<TReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: TReply) => {
      if (message.type !== replyType) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`bench helper exited (${code}) before answering ${replyType}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(request);
  });
}

/** Every victim latency of every round, per kind of run, for the pooled percentiles. */
const pooled = { quiet: [] as number[], noisy: [] as number[] };

function summarise(result: OpenLoopResult): VictimRun {
  const ok = Object.entries(result.statuses)
    .filter(([status]) => status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    p50: percentile(result.latenciesMs, 0.5),
    p99: percentile(result.latenciesMs, 0.99),
    max: percentile(result.latenciesMs, 1),
    answered: result.latenciesMs.length,
    non2xx: result.latenciesMs.length - ok,
    errors: result.errors,
    errorSamples: result.errorSamples,
    maxSendLagMs: result.maxSendLagMs,
  };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const ms = (value: number) => value.toFixed(2).padStart(7);

async function main(): Promise<void> {
  log(
    `noisy neighbour: ${settings.rounds} rounds of ${settings.seconds} s, victim ${settings.victimRate} req/s ` +
      `open loop over ${settings.victimUsers} users, flooder ${settings.floodConnections} connections, ` +
      `RATE_LIMIT_REFUSAL_DELAY_MS ${process.env.RATE_LIMIT_REFUSAL_DELAY_MS ?? '250 (default)'} ` +
      `(${cpus().length} cores, load average ${loadavg()[0].toFixed(2)})`,
  );
  const database = await createTestDatabase('noisy');
  const redisPrefix = `noisy-${randomBytes(4).toString('hex')}`;
  let flooderChild: ChildProcess | null = null;
  let victimChild: ChildProcess | null = null;
  let dataPlane: ServerChild | null = null;
  try {
    const { victim: victimSetup, flooder: flooderSetup } = await setUpTenants(
      database,
      redisPrefix,
    );
    log(`victim (pro): ${JSON.stringify(victimSetup.limits)}`);
    log(`flooder (free): ${JSON.stringify(flooderSetup.limits)}`);

    const server = await startServerChild({
      name: 'data-plane',
      entry: 'bench/servers/data-plane-server.ts',
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        PLATFORM_DOMAIN,
        SIGNING_KEY_ENCRYPTION_KEY,
        DATA_PLANE_HOST: '127.0.0.1',
        DATA_PLANE_PORT: '0',
      },
    });
    dataPlane = server;
    const victim: Tenant = {
      id: victimSetup.id,
      slug: victimSetup.slug,
      host: `${victimSetup.slug}.${PLATFORM_DOMAIN}`,
      tokens: await signIn(server, victimSetup.slug, victimSetup.passwords),
    };
    const flooder: Tenant = {
      id: flooderSetup.id,
      slug: flooderSetup.slug,
      host: `${flooderSetup.slug}.${PLATFORM_DOMAIN}`,
      tokens: await signIn(server, flooderSetup.slug, flooderSetup.passwords),
    };
    for (let i = 0; i < PROJECTS; i++) {
      const created = await call(
        server.url,
        'POST',
        PATH,
        { host: victim.host, authorization: `Bearer ${victim.tokens[0]}` },
        { name: `project ${i + 1}` },
      );
      expectStatus('victim project', created, 201);
    }

    // The victim's load generator and the flooder each run in a process of their own: this
    // one built the control plane and carries its heap, whose full collections would otherwise
    // pause the victim's client and be counted as the data plane's latency.
    flooderChild = forkHelper('noisy-flooder-child.ts');
    victimChild = forkHelper('open-loop-child.ts');
    const victimHelper = victimChild;
    const flooderHelper = flooderChild;
    const victimTargets = victim.tokens.map((token) => ({ host: victim.host, token }));
    const victimLoad = async (seconds: number) => {
      const request: OpenLoopRunRequest = {
        type: 'run',
        url: server.url,
        path: PATH,
        ratePerSecond: settings.victimRate,
        seconds,
        targets: victimTargets,
      };
      return (await ask<OpenLoopRunResult>(victimHelper, request, 'ran')).result;
    };
    const floodFor = (seconds: number) => {
      const request: FloodRequest = {
        type: 'flood',
        url: server.url,
        path: PATH,
        host: flooder.host,
        tokens: flooder.tokens,
        connections: settings.floodConnections,
        seconds,
      };
      return ask<FloodResult>(flooderHelper, request, 'flooded');
    };

    if (settings.warmupSeconds > 0) {
      log(`warm-up: ${settings.warmupSeconds} s of both loads together (discarded)`);
      await Promise.all([victimLoad(settings.warmupSeconds), floodFor(settings.warmupSeconds)]);
      await sleep(1_000);
    }

    const quietRun = async () => {
      const cpuBefore = readCpuMs(server.pid);
      const result = await victimLoad(settings.seconds);
      pooled.quiet.push(...result.latenciesMs);
      const run = summarise(result);
      return { ...run, serverCpuMsPerRequest: (readCpuMs(server.pid) - cpuBefore) / run.answered };
    };
    const noisyRun = async () => {
      const cpuBefore = readCpuMs(server.pid);
      // The flood starts first and ends last, so it covers the whole victim run.
      const flooding = floodFor(settings.seconds + 2);
      await sleep(1_000);
      const victimRaw = await victimLoad(settings.seconds);
      pooled.noisy.push(...victimRaw.latenciesMs);
      const victimResult = summarise(victimRaw);
      const flooded = await flooding;
      const cpuMs = readCpuMs(server.pid) - cpuBefore;
      return {
        victimResult,
        flooded,
        cpuMsPerSecond: cpuMs / (settings.seconds + 2),
        cpuMsPerRequest: cpuMs / (flooded.requests + victimResult.answered),
      };
    };

    const rounds: Round[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const loadAverageAtStart = loadavg()[0];
      // Alternate the order, so drift in the machine's other load favours neither run.
      const quietFirst = round % 2 === 1;
      let quiet: VictimRun & { serverCpuMsPerRequest: number };
      let noisy: Awaited<ReturnType<typeof noisyRun>>;
      if (quietFirst) {
        quiet = await quietRun();
        await sleep(1_000);
        noisy = await noisyRun();
      } else {
        noisy = await noisyRun();
        await sleep(1_000);
        quiet = await quietRun();
      }
      for (const [name, run] of [
        ['quiet', quiet],
        ['noisy', noisy.victimResult],
      ] as const) {
        if (run.non2xx > 0 || run.errors > 0) {
          throw new Error(
            `victim's ${name} run had ${run.non2xx} non-2xx answers and ${run.errors} errors ` +
              `(${run.errorSamples.join('; ')})`,
          );
        }
      }
      const result: Round = {
        round,
        order: quietFirst ? 'quiet, noisy' : 'noisy, quiet',
        quiet,
        noisy: noisy.victimResult,
        p99Ratio: noisy.victimResult.p99 / quiet.p99,
        p50Ratio: noisy.victimResult.p50 / quiet.p50,
        flooder: noisy.flooded,
        serverCpuMsPerSecondNoisy: noisy.cpuMsPerSecond,
        serverCpuMsPerRequestNoisy: noisy.cpuMsPerRequest,
        loadAverageAtStart,
      };
      rounds.push(result);
      log(
        `round ${round} (${result.order}, load ${loadAverageAtStart.toFixed(2)}): ` +
          `victim p50/p99 quiet ${quiet.p50.toFixed(2)}/${quiet.p99.toFixed(2)} ms, ` +
          `noisy ${result.noisy.p50.toFixed(2)}/${result.noisy.p99.toFixed(2)} ms, ` +
          `p99 ratio ${result.p99Ratio.toFixed(2)}; flooder ${noisy.flooded.ok} 2xx, ` +
          `${noisy.flooded.tooMany} 429 (${(noisy.flooded.requests / noisy.flooded.seconds).toFixed(0)} req/s), ` +
          `${noisy.flooded.other} other, ${noisy.flooded.errors} errors; data plane CPU per ` +
          `request quiet ${quiet.serverCpuMsPerRequest.toFixed(2)} ms, noisy ` +
          `${noisy.cpuMsPerRequest.toFixed(2)} ms (${(noisy.cpuMsPerSecond / 10).toFixed(0)} % of a core)`,
      );
      await sleep(1_000);
    }

    // The data plane's own account: refusals by limit, and decisions Redis could not make.
    const metrics = await call(server.url, 'GET', '/metrics', {});
    const metricLines = String(metrics.body)
      .split('\n')
      .filter((line) => /^data_plane_rate_limit/.test(line));
    log(`data plane metrics: ${metricLines.join('; ')}`);

    const summary = {
      p99RatioMedian: median(rounds.map((r) => r.p99Ratio)),
      p99RatioMin: Math.min(...rounds.map((r) => r.p99Ratio)),
      p99RatioMax: Math.max(...rounds.map((r) => r.p99Ratio)),
      p50RatioMedian: median(rounds.map((r) => r.p50Ratio)),
      quietP99Median: median(rounds.map((r) => r.quiet.p99)),
      noisyP99Median: median(rounds.map((r) => r.noisy.p99)),
      quietP50Median: median(rounds.map((r) => r.quiet.p50)),
      noisyP50Median: median(rounds.map((r) => r.noisy.p50)),
      pooledQuietP50: percentile(pooled.quiet, 0.5),
      pooledQuietP99: percentile(pooled.quiet, 0.99),
      pooledNoisyP50: percentile(pooled.noisy, 0.5),
      pooledNoisyP99: percentile(pooled.noisy, 0.99),
      metrics: metricLines,
      flooderOk: rounds.reduce((sum, r) => sum + r.flooder.ok, 0),
      flooderTooMany: rounds.reduce((sum, r) => sum + r.flooder.tooMany, 0),
      flooderRequestsPerSecondMedian: median(
        rounds.map((r) => r.flooder.requests / r.flooder.seconds),
      ),
    };
    log('');
    log(
      '| round | quiet p50 | quiet p99 | noisy p50 | noisy p99 | p99 ratio | flooder 2xx | flooder 429 | flood req/s |',
    );
    log(
      '| ----: | --------: | --------: | --------: | --------: | --------: | ----------: | ----------: | ----------: |',
    );
    for (const r of rounds) {
      log(
        `| ${r.round} | ${ms(r.quiet.p50)} | ${ms(r.quiet.p99)} | ${ms(r.noisy.p50)} | ${ms(r.noisy.p99)} | ` +
          `${r.p99Ratio.toFixed(2)} | ${r.flooder.ok} | ${r.flooder.tooMany} | ` +
          `${(r.flooder.requests / r.flooder.seconds).toFixed(0)} |`,
      );
    }
    log('');
    log(
      `median p99(noisy)/p99(quiet) = ${summary.p99RatioMedian.toFixed(2)} ` +
        `(range ${summary.p99RatioMin.toFixed(2)}-${summary.p99RatioMax.toFixed(2)}; goal ≤ 1.5); ` +
        `victim p99 median quiet ${summary.quietP99Median.toFixed(2)} ms, noisy ${summary.noisyP99Median.toFixed(2)} ms; ` +
        `flooder ${summary.flooderOk} 2xx / ${summary.flooderTooMany} 429 over all noisy runs`,
    );
    log(
      `all rounds pooled: victim p50/p99 quiet ${summary.pooledQuietP50.toFixed(2)}/` +
        `${summary.pooledQuietP99.toFixed(2)} ms, noisy ${summary.pooledNoisyP50.toFixed(2)}/` +
        `${summary.pooledNoisyP99.toFixed(2)} ms, p99 ratio ` +
        `${(summary.pooledNoisyP99 / summary.pooledQuietP99).toFixed(2)}`,
    );
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      RESULTS_FILE,
      JSON.stringify(
        {
          settings: {
            ...settings,
            refusalDelayMs: process.env.RATE_LIMIT_REFUSAL_DELAY_MS ?? '250 (default)',
          },
          cores: cpus().length,
          summary,
          rounds,
        },
        null,
        2,
      ),
    );
    log(`details: ${RESULTS_FILE}`);
  } finally {
    victimChild?.kill('SIGTERM');
    flooderChild?.kill('SIGTERM');
    // SIGTERM first: a profiled child (BENCH_SERVER_NODE_ARGS=--cpu-prof) writes its profile.
    await dataPlane?.stop();
    killAllChildren();
    await database.drop().catch(() => undefined);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${redisPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  }
}

process.on('exit', killAllChildren);
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
