/**
 * Property-based hostile input (issue 7, "Hostile input"): fast-check generates well over
 * 10,000 slugs, custom-domain hostnames, Host headers, JSON bodies and query strings — its
 * arbitraries mixed with hand-picked hostile fragments — and throws them at one running
 * platform (control plane and data plane), 24 requests in flight.
 *
 * For every request: no 5xx, a 4xx carries our JSON error body, and no body leaks SQL, a stack
 * frame or a library's name that the request did not itself contain. Afterwards: every tenant
 * and domain row that appeared is one a 2xx answer announced, no schema appeared at all (the
 * worker's provisioning and domain queues are paused after the baseline tenant is active, so a
 * 202 only records a `provisioning` row), and both apps still serve a normal request.
 *
 * The inputs are sampled, not shrunk (shrinking runs one input at a time); a failure prints the
 * exact request. FUZZ_SEED=<n> replays a run; the seed is printed either way.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import fc from 'fast-check';
import { Client } from 'pg';
import {
  PLATFORM_DOMAIN,
  startPlatform,
  type RunningPlatform,
} from '../../../test/platform-harness';
import { DOMAINS_QUEUE } from '../src/domains/domains.queue';
import { PROVISIONING_QUEUE } from '../src/provisioning/provisioning.queue';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const CONCURRENCY = 24;
const MINIMUM_TOTAL = 10_000;
const COUNTS = {
  queryStrings: 1_600,
  hostHeaders: 2_000,
  jsonBodies: 2_600,
  hostnames: 1_600,
  slugs: 2_400,
};

// ---------------------------------------------------------------------------------------------
// Hostile fragments: what generic generators rarely produce on their own.

const SQL = [
  "'; DROP SCHEMA platform CASCADE;--",
  "' OR '1'='1",
  '1; SELECT pg_sleep(10)',
  "acme' UNION SELECT * FROM platform.tenants--",
  '$$; DROP TABLE x; $$',
  '\\',
  "E'\\x00'",
  't_00000000000000000000000000000000',
  'pg_catalog',
  'public',
  'information_schema',
  'platform',
  '"; SET ROLE postgres; --',
];
const TRAVERSAL = ['../', '..%2f', '%2e%2e%2f', '..\\', '/etc/passwd', '....//', '%252e%252e%252f'];
const CRLF = ['\r\n', '%0d%0a', '\r\nX-Injected: 1', '\n', '\r', '%0a', '\u0085', '\u2028'];
const HOMOGRAPHS = [
  '\u0430cme', // Cyrillic а
  'xn--80ak6aa92e',
  'ａｃｍｅ',
  'ac\u200bme',
  'stra\u00dfe',
  '\u0130stanbul',
  'e\u0301',
  '\u202eemca',
  '\ufeffacme',
  'ａ',
];
const UNICODE_DOTS = ['\u3002', '\uff0e', '\uff61', '\u2024', '\u0701', '.', '..'];
const LONG = [
  'a'.repeat(63),
  'a'.repeat(64),
  'a'.repeat(300),
  `${'a'.repeat(63)}.`.repeat(5),
  'x'.repeat(4_000),
];
const NUL = ['\u0000', '%00', '\\u0000', '\u0000.evil.com'];
const ODD = [
  '',
  ' ',
  '\t',
  '*',
  '_',
  '-',
  '@',
  ':',
  ':0',
  ':99999',
  '[::1]',
  '127.0.0.1',
  '0x7f000001',
  '2130706433',
  'localhost',
  '🚀',
  '%',
  '%zz',
  '{{7*7}}',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
  PLATFORM_DOMAIN,
  `x.${PLATFORM_DOMAIN}`,
];
const FRAGMENTS = [
  ...SQL,
  ...TRAVERSAL,
  ...CRLF,
  ...HOMOGRAPHS,
  ...UNICODE_DOTS,
  ...LONG,
  ...NUL,
  ...ODD,
];

const fragment = fc.constantFrom(...FRAGMENTS);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
/** Strings of every kind: ASCII, full unicode (lone surrogates included), fragments spliced in. */
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fragment },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(fragment, label, fc.string({ maxLength: 5 })), { minLength: 1, maxLength: 5 })
      .map((parts) => parts.join('')),
  },
);
const hugeNumber = fc.constantFrom(
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  2 ** 63,
  2 ** 31,
  -(2 ** 31) - 1,
  1e-320,
  -0,
  0.5,
);
/** A value for a field that expects something else. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hugeNumber,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

// ---------------------------------------------------------------------------------------------
// HTTP: keep-alive node:http for what it will send, a raw socket for what it refuses to
// (control characters and non-Latin-1 text in a header or the path).

interface Outgoing {
  readonly target: 'control' | 'data';
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** Refused by Node's HTTP parser before any of our code ran (bare 400/431, no body). */
  readonly parserRefusal: boolean;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
let platform: RunningPlatform;
let db: Client;
const ports = { control: 0, data: 0 };

/**
 * Node's own answer to a request line or header it cannot parse (a byte over 0x7f in the URL,
 * a header too large): no body and no Content-Type, which every answer of our apps has.
 */
function isParserRefusal(status: number, headers: IncomingHttpHeaders, text: string): boolean {
  return (status === 400 || status === 431) && text === '' && !headers['content-type'];
}

function sendWithNode(out: Outgoing): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...out.headers };
    if (out.body !== undefined) headers['content-length'] = String(Buffer.byteLength(out.body));
    const req = httpRequest(
      {
        agent,
        host: '127.0.0.1',
        port: ports[out.target],
        method: out.method,
        path: out.path,
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status,
            headers: res.headers,
            text,
            parserRefusal: isParserRefusal(status, res.headers, text),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The documented keep-alive race: the server closed an idle socket as it was reused.
      if (req.reusedSocket && (error.code === 'ECONNRESET' || error.message === 'socket hang up')) {
        sendWithNode(out).then(resolve, reject);
      } else {
        reject(error);
      }
    });
    req.end(out.body);
  });
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = parseInt(body.subarray(offset, lineEnd).toString(), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** One connection per request, bytes exactly as given (UTF-8), read until the server closes. */
function sendRaw(out: Outgoing): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lines = [`${out.method} ${out.path} HTTP/1.1`];
    for (const [name, value] of Object.entries(out.headers ?? {})) lines.push(`${name}: ${value}`);
    if (out.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(out.body)}`);
    lines.push('Connection: close', '', out.body ?? '');
    const socket = connect(ports[out.target], '127.0.0.1', () => {
      // write, not end: a half-closed client makes Node abort the request in flight.
      socket.write(Buffer.from(lines.join('\r\n'), 'utf8'));
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, split === -1 ? raw.length : split).toString('latin1');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body: Buffer = split === -1 ? Buffer.alloc(0) : raw.subarray(split + 4);
      if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
      const status = Number(statusLine?.split(' ')[1] ?? 0);
      resolve({
        status,
        headers,
        text: body.toString('utf8'),
        parserRefusal: isParserRefusal(status, headers, body.toString('utf8')),
      });
    });
  });
}

/** encodeURIComponent for any string, lone surrogates included (as U+FFFD, like a browser). */
function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

const NODE_REFUSES_HEADER = /[^\t\x20-\x7e\x80-\xff]/;
const NODE_REFUSES_PATH = /[^\u0021-\u00ff]/;

function send(out: Outgoing): Promise<Answer> {
  const needsRaw =
    NODE_REFUSES_PATH.test(out.path) ||
    Object.values(out.headers ?? {}).some((value) => NODE_REFUSES_HEADER.test(value));
  return needsRaw ? sendRaw(out) : sendWithNode(out);
}

// ---------------------------------------------------------------------------------------------
// The run: cases per category, a pool of CONCURRENCY in flight, every answer checked.

interface Case {
  readonly out: Outgoing;
  /** Extra per-case expectations; returns a problem or null. */
  readonly check?: (answer: Answer) => string | null;
  /** Sees every 2xx answer (to record what it created). */
  readonly onSuccess?: (answer: Answer) => void;
}

const LEAKS: [string, RegExp][] = [
  ['SQL', /\b(SELECT|INSERT|UPDATE|DELETE FROM)\b/],
  ['a stack frame', /\n\s+at |\bat [\w.<>]+ \(/],
  ['node_modules', /node_modules/],
  ['QueryFailedError', /QueryFailedError/],
  ['a PostgreSQL error', /syntax error|violates|relation "|column "|permission denied/i],
];

/** The query as the server reads it (to tell an echoed input from a leak). */
function decoded(path: string): string {
  return path.replace(/\+/g, ' ').replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function problemsOf(kase: Case, answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500 || answer.status < 200) problems.push(`status ${answer.status}`);
  if (answer.status >= 400 && answer.status < 500 && !answer.parserRefusal) {
    let body: unknown = null;
    try {
      body = JSON.parse(answer.text);
    } catch {
      problems.push('a 4xx without a JSON body');
    }
    const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown };
    if (body !== null && (typeof error !== 'string' || typeof message !== 'string')) {
      problems.push('a 4xx body without error and message');
    }
  }
  const sent = `${kase.out.path}\n${decoded(kase.out.path)}\n${JSON.stringify(kase.out.headers ?? {})}\n${kase.out.body ?? ''}`;
  for (const [name, pattern] of LEAKS) {
    // Only what the request did not carry itself: an echoed input is not a leak.
    if (pattern.test(answer.text) && !pattern.test(sent)) problems.push(`leaks ${name}`);
  }
  const extra = kase.check?.(answer);
  if (extra) problems.push(extra);
  return problems;
}

interface Outcome {
  readonly sent: number;
  readonly byStatus: Map<number, number>;
  readonly failures: string[];
  readonly seconds: number;
  /** Slowest routes by mean latency, to see where a run's time goes. */
  readonly slowest: string;
}

const routeOf = (out: Outgoing) =>
  `${out.method} ${out.path.split('?')[0].replace(/[0-9a-f-]{36}/g, ':id')}`;

async function run(cases: readonly Case[]): Promise<Outcome> {
  const byStatus = new Map<number, number>();
  const failures: string[] = [];
  const latency = new Map<string, { count: number; ms: number }>();
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const kase = cases[next++];
      let answer: Answer;
      const sentAt = Date.now();
      try {
        answer = await send(kase.out);
      } catch (error) {
        failures.push(`${show(kase)} → transport error ${(error as Error).message}`);
        continue;
      }
      const route = routeOf(kase.out);
      const seen = latency.get(route) ?? { count: 0, ms: 0 };
      latency.set(route, { count: seen.count + 1, ms: seen.ms + Date.now() - sentAt });
      byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
      if (answer.status >= 200 && answer.status < 300) kase.onSuccess?.(answer);
      const problems = problemsOf(kase, answer);
      if (problems.length > 0 && failures.length < 25) {
        failures.push(
          `${show(kase)} → ${answer.status} ${answer.text.slice(0, 300)} (${problems.join(', ')})`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const slowest = [...latency.entries()]
    .map(([route, { count, ms }]) => ({ route, mean: ms / count }))
    .sort((a, b) => b.mean - a.mean)
    .slice(0, 3)
    .map(({ route, mean }) => `${route} ${Math.round(mean)} ms`)
    .join(', ');
  return {
    sent: cases.length,
    byStatus,
    failures,
    seconds: (Date.now() - started) / 1000,
    slowest,
  };
}

function show(kase: Case): string {
  const { target, method, path, headers, body } = kase.out;
  return JSON.stringify({ target, method, path, headers, body: body?.slice(0, 400) });
}

const summary: Record<string, { sent: number; statuses: string; timing: string }> = {};

function record(category: string, outcome: Outcome): void {
  const statuses = [...outcome.byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
  summary[category] = {
    sent: outcome.sent,
    statuses,
    timing: `${outcome.seconds.toFixed(1)} s; slowest: ${outcome.slowest}`,
  };
}

// ---------------------------------------------------------------------------------------------

const suffix = () => randomBytes(3).toString('hex');
const baselineSlug = `fuzz-${suffix()}`;
let baselineId: string;
let accessToken: string;
const operator = () => ({ authorization: `Bearer ${platform.adminToken}` });
const json = { 'content-type': 'application/json' };
const baselineHost = () => platform.hostOf(baselineSlug);

/** What the registry holds; a refused request must change none of it. */
async function footprint() {
  const { rows } = await db.query<{ tenants: string[]; domains: string[]; schemas: number }>(
    `SELECT (SELECT coalesce(array_agg(id::text), '{}') FROM platform.tenants) AS tenants,
            (SELECT coalesce(array_agg(tenant_id::text || ' ' || hostname), '{}')
               FROM platform.tenant_domains) AS domains,
            (SELECT count(*)::int FROM pg_namespace) AS schemas`,
  );
  return rows[0];
}

const createdTenants = new Set<string>();
const createdDomains = new Set<string>();

function recordTenant(answer: Answer): void {
  const body = JSON.parse(answer.text) as { id: string };
  createdTenants.add(body.id);
}

function recordDomain(tenantId: string) {
  return (answer: Answer): void => {
    const body = JSON.parse(answer.text) as { hostname: string };
    createdDomains.add(`${tenantId} ${body.hostname}`);
  };
}

function sample<T>(arbitrary: fc.Arbitrary<T>, count: number, offset: number): T[] {
  return fc.sample(arbitrary, { numRuns: count, seed: SEED + offset });
}

beforeAll(async () => {
  console.log(`hostile fuzz: FUZZ_SEED=${SEED}`);
  platform = await startPlatform({
    controlPlaneEnv: {
      // Refusals by throttle are fine, but they would hide what the validation does.
      LOGIN_FAILURES_PER_ACCOUNT: '1000000',
      LOGIN_FAILURES_PER_IP: '1000000',
      CUSTOM_DOMAINS_PER_TENANT: '1000',
      // Domain checks would ask real resolvers; the queue is paused anyway.
      CUSTOM_DOMAIN_DNS_SERVERS: '127.0.0.1:9',
    },
    dataPlaneEnv: { RATE_LIMITS_ENABLED: 'false' },
  });
  for (const target of ['control', 'data'] as const) {
    const url = new URL(target === 'control' ? platform.controlPlaneUrl : platform.dataPlaneUrl);
    ports[target] = Number(url.port);
  }
  db = new Client({ connectionString: platform.database.url });
  await db.connect();
  baselineId = (await platform.createTenant(baselineSlug)).id;
  accessToken = await platform.signIn(baselineSlug, `member@${baselineSlug}.test`, 'admin');
  // From here on a 202 records a `provisioning` row and a queued job, and nothing else runs.
  for (const queue of [PROVISIONING_QUEUE, DOMAINS_QUEUE]) {
    await platform.worker!.get<Queue>(getQueueToken(queue)).pause(true);
  }
});

afterAll(async () => {
  console.log(
    `hostile fuzz (FUZZ_SEED=${SEED}):\n${Object.entries(summary)
      .map(
        ([category, { sent, statuses, timing }]) =>
          `  ${category.padEnd(14)} ${String(sent).padStart(5)}  ${statuses}\n${' '.repeat(23)}${timing}`,
      )
      .join('\n')}\n  total          ${Object.values(summary).reduce((n, s) => n + s.sent, 0)}`,
  );
  agent.destroy();
  await db?.end();
  await platform?.stop();
});

describe('hostile input, generated', () => {
  let before: Awaited<ReturnType<typeof footprint>>;

  beforeAll(async () => {
    before = await footprint();
  });

  it('query strings: GET /v1/tenants, /v1/audit and the data plane’s /api/projects', async () => {
    const key = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom(
          'limit',
          'offset',
          'status',
          'search',
          'action',
          'operator',
          'from',
          'to',
          'tenant',
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '__proto__',
          'constructor[prototype][x]',
          '__proto__[admin]',
          'limit[]',
          'status[$ne]',
          'limit[0]',
          '',
          '=',
        ),
      },
      { weight: 1, arbitrary: hostileString },
    );
    const value = fc.oneof(
      fc.constantFrom(
        '',
        '0',
        '-1',
        '1.5',
        '1e309',
        '99999999999999999999',
        '9223372036854775808',
        '1000001',
        '0x10',
        ' 1',
        'Infinity',
        'NaN',
        'active',
        'tenant.*',
        '*',
        '2026-13-45T99:99:99Z',
        '2026-01-01T00:00:00Z',
        '1000001',
        '2026-W01',
        '20260101T000000Z',
        '2026-02-30',
        '%',
        '%zz',
        '%00',
      ),
      hostileString,
      fc.integer().map(String),
      fc.double().map(String),
    );
    const query = fc.array(
      fc.tuple(key, value, fc.boolean()).map(([k, v, raw]) =>
        // Mostly encoded as a browser would; sometimes left raw (only what Node's client
        // refuses is escaped), so broken escapes and brackets reach the parser.
        raw
          ? `${k.replace(/[^\u0021-\u00ff]/gu, percentEncode)}=${v.replace(/[^\u0021-\u00ff]/gu, percentEncode)}`
          : `${percentEncode(k)}=${percentEncode(v)}`,
      ),
      { minLength: 1, maxLength: 5 },
    );
    const routes = fc.constantFrom(
      '/v1/migration-runs',
      '/v1/tenants',
      '/v1/audit',
      `/v1/tenants/${'x'}/audit`,
      '/api/projects',
    );
    const cases = sample(fc.tuple(routes, query), COUNTS.queryStrings, 1).map(
      ([route, parts]): Case => {
        const path = `${route === '/v1/tenants/x/audit' ? `/v1/tenants/${baselineSlug}/audit` : route}?${parts.join('&')}`;
        return route === '/api/projects'
          ? {
              out: {
                target: 'data',
                method: 'GET',
                path,
                headers: { host: baselineHost(), authorization: `Bearer ${accessToken}` },
              },
            }
          : { out: { target: 'control', method: 'GET', path, headers: operator() } };
      },
    );
    const outcome = await run(cases);
    record('query strings', outcome);
    expect(outcome.failures).toEqual([]);
  });

  it('Host headers: GET /api/tenant and POST /api/auth/login on the data plane', async () => {
    const base = () => baselineHost();
    const host = fc.oneof(
      { weight: 2, arbitrary: fc.domain() },
      { weight: 2, arbitrary: hostileString },
      { weight: 2, arbitrary: label.map((l) => `${l}.${PLATFORM_DOMAIN}`) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom('', ...FRAGMENTS), fc.constantFrom('', ...FRAGMENTS), fc.nat(9))
          .map(([prefix, postfix, variant]) => {
            const h = base();
            const variants = [
              `${prefix}${h}${postfix}`,
              `${prefix}.${h}`,
              `${h}.${postfix}`,
              h.toUpperCase(),
              `${h}.`,
              `${h}:${postfix}`,
              `${h.replace(/\./g, postfix || '\u3002')}`,
              `user@${h}`,
              `${h}.evil.com`,
              `${prefix}${baselineSlug}`,
            ];
            return variants[variant];
          }),
      },
    );
    // One in four a login (a body to read, a password check once the host is the tenant's).
    const cases = sample(fc.tuple(host, fc.nat(3)), COUNTS.hostHeaders, 2).map(
      ([hostHeader, kind]): Case => ({
        out:
          kind === 0
            ? {
                target: 'data',
                method: 'POST',
                path: '/api/auth/login',
                headers: { host: hostHeader, ...json },
                body: JSON.stringify({ email: 'nobody@fuzz.test', password: 'not the password' }),
              }
            : { target: 'data', method: 'GET', path: '/api/tenant', headers: { host: hostHeader } },
        // Only the tenant's own host (however spelled) may reach it; never another tenant.
        check: (answer) => {
          if (answer.status !== 200) return null;
          const body = JSON.parse(answer.text) as { slug?: string };
          return body.slug === baselineSlug ? null : `served tenant ${String(body.slug)}`;
        },
      }),
    );
    const outcome = await run(cases);
    record('Host headers', outcome);
    expect(outcome.failures).toEqual([]);
  });

  it('JSON bodies: random, malformed, deeply nested, huge, prototype keys, wrong types', async () => {
    interface Route {
      readonly target: 'control' | 'data';
      readonly method: string;
      readonly path: string;
      /** A valid body to mutate; none where a valid body would start real work. */
      readonly template?: () => Record<string, unknown>;
      readonly onSuccess?: (answer: Answer) => void;
    }
    let n = 0;
    const routes: Route[] = [
      {
        target: 'control',
        method: 'POST',
        path: '/v1/tenants',
        template: () => ({
          slug: `jf-${suffix()}-${n++}`,
          name: 'Fuzz',
          adminEmail: 'a@fuzz.test',
        }),
        onSuccess: recordTenant,
      },
      {
        target: 'control',
        method: 'POST',
        path: `/v1/tenants/${baselineId}/users`,
        template: () => ({ email: `u${n++}@fuzz.test`, role: 'member' }),
      },
      {
        target: 'control',
        method: 'POST',
        path: `/v1/tenants/${baselineId}/domains`,
        template: () => ({ hostname: `j${n++}.fuzz-example.com` }),
        onSuccess: recordDomain(baselineId),
      },
      {
        target: 'control',
        method: 'POST',
        path: '/v1/operators',
        template: () => ({ email: `op${n++}@fuzz.test`, role: 'viewer' }),
      },
      {
        target: 'control',
        method: 'POST',
        path: '/v1/auth/login',
        template: () => ({ email: 'nobody@fuzz.test', password: 'not the password' }),
      },
      {
        target: 'control',
        method: 'POST',
        path: '/v1/api-keys',
        template: () => ({ name: `k${n++}`, expiresAt: '2030-01-01T00:00:00Z' }),
      },
      { target: 'control', method: 'POST', path: '/v1/migration-runs' },
      { target: 'control', method: 'PUT', path: `/v1/tenants/${baselineId}/limits` },
      {
        target: 'data',
        method: 'POST',
        path: '/api/projects',
        template: () => ({ name: `p${n++}`, description: 'fuzz' }),
      },
      {
        target: 'data',
        method: 'POST',
        path: '/api/auth/login',
        template: () => ({ email: 'nobody@fuzz.test', password: 'not the password' }),
      },
      {
        target: 'data',
        method: 'POST',
        path: '/api/auth/refresh',
        template: () => ({ refreshToken: 'x' }),
      },
      {
        target: 'data',
        method: 'POST',
        path: '/api/auth/accept-invite',
        template: () => ({ token: 'x'.repeat(43), password: 'a long enough password' }),
      },
      {
        target: 'data',
        method: 'POST',
        path: '/api/auth/reset-password',
        template: () => ({ token: 'x'.repeat(43), password: 'a long enough password' }),
      },
    ];

    const nested = (depth: number, kind: number): string =>
      kind === 0
        ? `${'['.repeat(depth)}${']'.repeat(depth)}`
        : kind === 1
          ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
          : `{"name":${'['.repeat(depth)}"x"${']'.repeat(depth)}}`;
    type Body = (template: Record<string, unknown> | undefined) => string;
    const body: fc.Arbitrary<Body> = fc.oneof(
      // Random JSON of any shape.
      { weight: 4, arbitrary: fc.json({ maxDepth: 4 }).map((text) => () => text) },
      // Malformed: cut short, with junk after the cut.
      {
        weight: 3,
        arbitrary: fc.tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.string({ maxLength: 2 })).map(
          ([text, at, junk]) =>
            () =>
              `${text.slice(0, at % Math.max(1, text.length))}${junk}`,
        ),
      },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(
            '{',
            '[',
            "{'slug':'x'}",
            '{"a":}',
            '{"a":1,}',
            '"\\ud800"',
            '{"\\ud800":1}',
            'NaN',
            'undefined',
            '\ufeff{}',
            '{}x',
            '\u0000',
            '{"a":"\u0000"}',
            '{"a":"\\u0000"}',
            `${'1'.repeat(400)}`,
            '{"limit":1e99999}',
            '-0',
            '',
            ' ',
            'null',
            'true',
            '[]',
            '{"":""}',
          )
          .map((text) => () => text),
      },
      // Deeply nested (20,000 levels once overflowed the validator's stack: a 500).
      {
        weight: 1,
        arbitrary: fc.tuple(fc.constantFrom(33, 500, 5_000, 20_000), fc.nat(2)).map(
          ([depth, kind]) =>
            () =>
              nested(depth, kind),
        ),
      },
      // A valid body with one field made hostile (or a field added).
      {
        weight: 6,
        arbitrary: fc
          .tuple(
            fc.oneof(
              fc.constantFrom('slug', 'name', 'email', 'hostname', 'role', 'expiresAt', 'password'),
              hostileString,
            ),
            wrongValue,
          )
          .map(([field, value]) => (template: Record<string, unknown> | undefined) => {
            const mutated: Record<string, unknown> = { ...(template ?? {}) };
            const keys = Object.keys(mutated);
            const target =
              keys.includes(field) || keys.length === 0 ? field : keys[field.length % keys.length];
            mutated[target] = value;
            return JSON.stringify(mutated);
          }),
      },
      // Prototype pollution attempts: keys JSON.stringify would never write.
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(
            '"__proto__":{"isAdmin":true,"role":"admin","status":"active"}',
            '"constructor":{"prototype":{"polluted":true}}',
            '"__proto__":null',
            '"__proto__":[1,2]',
            '"prototype":{"x":1}',
          )
          .map((injection) => (template: Record<string, unknown> | undefined) => {
            const text = JSON.stringify(template ?? {});
            return text === '{}' ? `{${injection}}` : `{${injection},${text.slice(1)}`;
          }),
      },
      // Near and over the size limits (control plane 64kb, data plane 100kb): few, they are
      // what the run spends most of its time writing.
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(60_000, 70_000, 99_000, 120_000)
          .map(
            (size) => (template: Record<string, unknown> | undefined) =>
              JSON.stringify({ ...(template ?? {}), name: 'n'.repeat(size) }),
          ),
      },
    );
    const contentType = fc.oneof(
      { weight: 12, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'application/json; charset=utf-8',
          'application/json; charset=utf-16',
          'application/json; charset=latin1',
          'application/vnd.api+json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/jsonx',
          'APPLICATION/JSON',
          '',
        ),
      },
    );
    const cases = sample(
      fc.tuple(fc.nat(routes.length - 1), body, contentType),
      COUNTS.jsonBodies,
      3,
    ).map(([index, makeBody, type]): Case => {
      const route = routes[index];
      const headers: Record<string, string> =
        route.target === 'control'
          ? { ...operator() }
          : { host: baselineHost(), authorization: `Bearer ${accessToken}` };
      if (type) headers['content-type'] = type;
      return {
        out: {
          target: route.target,
          method: route.method,
          path: route.path,
          headers,
          body: makeBody(route.template?.()),
        },
        onSuccess: route.onSuccess,
      };
    });
    const outcome = await run(cases);
    record('JSON bodies', outcome);
    expect(outcome.failures).toEqual([]);
    // Nothing reached a prototype of this process' objects (the apps run in it).
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('custom-domain hostnames: POST /v1/tenants/:id/domains', async () => {
    const hostname: fc.Arbitrary<unknown> = fc.oneof(
      { weight: 3, arbitrary: fc.domain() },
      { weight: 2, arbitrary: hostileString },
      {
        weight: 3,
        arbitrary: fc
          .array(fc.oneof(label, fragment), { minLength: 1, maxLength: 5 })
          .chain((labels) => fc.constantFrom(...UNICODE_DOTS, '.').map((dot) => labels.join(dot))),
      },
      { weight: 1, arbitrary: fc.ipV4() },
      { weight: 1, arbitrary: fc.ipV6() },
      { weight: 1, arbitrary: fc.domain().map((d) => `${d}.`) },
      { weight: 1, arbitrary: fc.domain().map((d) => d.toUpperCase()) },
      { weight: 1, arbitrary: fc.domain().map((d) => `*.${d}`) },
      { weight: 1, arbitrary: fc.tuple(fc.domain(), fc.nat(70_000)).map(([d, p]) => `${d}:${p}`) },
      { weight: 1, arbitrary: label.map((l) => `${l}.${PLATFORM_DOMAIN}`) },
      { weight: 1, arbitrary: fc.webUrl() },
      { weight: 1, arbitrary: wrongValue },
    );
    const cases = sample(hostname, COUNTS.hostnames, 4).map((value): Case => ({
      out: {
        target: 'control',
        method: 'POST',
        path: `/v1/tenants/${baselineId}/domains`,
        headers: { ...operator(), ...json },
        body: JSON.stringify({ hostname: value }),
      },
      onSuccess: recordDomain(baselineId),
    }));
    const outcome = await run(cases);
    record('hostnames', outcome);
    expect(outcome.failures).toEqual([]);
  });

  it('tenant slugs: POST /v1/tenants', async () => {
    const slug: fc.Arbitrary<unknown> = fc.oneof(
      { weight: 3, arbitrary: hostileString },
      { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,45}$/) },
      { weight: 1, arbitrary: label.map((l) => `pg${l}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'www',
          'api',
          'admin',
          'public',
          'platform',
          'pg_catalog',
          baselineSlug,
        ),
      },
      { weight: 1, arbitrary: label.map((l) => l.toUpperCase()) },
      { weight: 1, arbitrary: fc.tuple(label, fragment).map(([l, f]) => `${l}${f}`) },
      { weight: 1, arbitrary: wrongValue },
    );
    const cases = sample(fc.tuple(slug, fc.boolean()), COUNTS.slugs, 5).map(
      ([value, withIdempotencyKey]): Case => ({
        out: {
          target: 'control',
          method: 'POST',
          path: '/v1/tenants',
          headers: {
            ...operator(),
            ...json,
            ...(withIdempotencyKey ? { 'idempotency-key': `fuzz-${suffix()}${suffix()}` } : {}),
          },
          body: JSON.stringify({ slug: value, name: 'Fuzzed', adminEmail: 'admin@fuzz.test' }),
        },
        onSuccess: recordTenant,
      }),
    );
    const outcome = await run(cases);
    record('slugs', outcome);
    expect(outcome.failures).toEqual([]);
  });

  it(`sent at least ${MINIMUM_TOTAL} generated requests`, () => {
    const total = Object.values(summary).reduce((sum, { sent }) => sum + sent, 0);
    expect(Object.keys(summary)).toHaveLength(5);
    expect(total).toBeGreaterThanOrEqual(MINIMUM_TOTAL);
  });

  it('created exactly the rows the 2xx answers announced, and no schema', async () => {
    const after = await footprint();
    const newTenants = after.tenants.filter((id) => !before.tenants.includes(id)).sort();
    expect(newTenants).toEqual([...createdTenants].sort());
    const newDomains = after.domains.filter((row) => !before.domains.includes(row));
    const unexplained = newDomains.filter(
      (row) => !createdDomains.has(row) && !createdTenants.has(row.split(' ')[0]),
    );
    expect(unexplained).toEqual([]);
    for (const domain of createdDomains) expect(after.domains).toContain(domain);
    expect(after.schemas).toBe(before.schemas);
  });

  it('keeps serving: health and a normal request on both apps', async () => {
    for (const target of ['control', 'data'] as const) {
      const health = await send({ target, method: 'GET', path: '/health/live' });
      expect(health.status).toBe(200);
    }
    const tenant = await send({
      target: 'control',
      method: 'GET',
      path: `/v1/tenants/${baselineSlug}`,
      headers: operator(),
    });
    expect(tenant.status).toBe(200);
    expect(JSON.parse(tenant.text)).toMatchObject({ slug: baselineSlug, status: 'active' });
    const profile = await send({
      target: 'data',
      method: 'GET',
      path: '/api/tenant',
      headers: { host: baselineHost() },
    });
    expect(profile.status).toBe(200);
    expect(JSON.parse(profile.text)).toMatchObject({ slug: baselineSlug });
    const projects = await send({
      target: 'data',
      method: 'GET',
      path: '/api/projects',
      headers: { host: baselineHost(), authorization: `Bearer ${accessToken}` },
    });
    expect(projects.status).toBe(200);
  });
});
