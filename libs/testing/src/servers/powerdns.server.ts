import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../free-port';
import { PortInUseError, retryOnPortInUse, stopChild } from './child-process.util';

export interface PowerDnsServer {
  /** Base URL of the webserver; the API lives under `/api/v1`. */
  apiUrl: string;
  apiKey: string;
  dnsPort: number;
  /** `127.0.0.1:<dnsPort>`, the form node:dns and pebble's `-dnsserver` take. */
  dnsAddress: string;
  serverId: 'localhost';
  stop(): Promise<void>;
}

export interface PowerDnsOptions {
  /** Zones to create (kind Native) before returning, e.g. `['platform.test']`. */
  zones?: string[];
}

// Debian's packages put the binary in /usr/sbin (not on every PATH) and the schema here.
const PDNS_BINARY = '/usr/sbin/pdns_server';
const SQLITE_SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';
const READY_TIMEOUT_MS = 10_000;

const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a private PowerDNS authoritative server (gsqlite3 backend, API on) on free loopback
 * ports, following SPEC.md's recipe. `stop()` kills it and deletes its directory.
 */
export async function startPowerDns(options: PowerDnsOptions = {}): Promise<PowerDnsServer> {
  const server = await retryOnPortInUse(startOnce);
  try {
    for (const zone of options.zones ?? []) await createZone(server, zone);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/** Asks the server over DNS (not the API), the way a resolver or pebble would. */
export async function resolveRecords(
  server: Pick<PowerDnsServer, 'dnsAddress'>,
  name: string,
  type: 'A' | 'AAAA' | 'CNAME' | 'TXT',
): Promise<string[]> {
  // One try, short timeout: the server is local, and a test waiting on a dead one should fail fast.
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([server.dnsAddress]);
  try {
    switch (type) {
      case 'A':
        return (await resolver.resolve4(name)).sort();
      case 'AAAA':
        return (await resolver.resolve6(name)).sort();
      case 'CNAME':
        return (await resolver.resolveCname(name)).sort();
      case 'TXT':
        // A TXT record may be split into several strings; they form one value.
        return (await resolver.resolveTxt(name)).map((chunks) => chunks.join('')).sort();
    }
  } catch (err) {
    // "No such name" and "no data" are answers, not failures: the set is empty.
    if (isDnsError(err) && (err.code === 'ENOTFOUND' || err.code === 'ENODATA')) return [];
    throw err;
  }
}

async function startOnce(): Promise<PowerDnsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'pdns-'));
  const dnsPort = await freePort();
  let webPort = await freePort();
  // Two quick freePort() calls can return the same port number.
  while (webPort === dnsPort) webPort = await freePort();
  const apiKey = randomBytes(16).toString('hex');
  const server: PowerDnsServer = {
    apiUrl: `http://127.0.0.1:${webPort}`,
    apiKey,
    dnsPort,
    dnsAddress: `127.0.0.1:${dnsPort}`,
    serverId: 'localhost',
    stop: async () => rm(dir, { recursive: true, force: true }),
  };
  try {
    const database = join(dir, 'pdns.sqlite3');
    await execFileAsync('sqlite3', [database, `.read ${SQLITE_SCHEMA}`]);
    await writeFile(join(dir, 'pdns.conf'), configText(dir, database, dnsPort, webPort, apiKey));
  } catch (err) {
    await server.stop();
    throw err;
  }

  const child = spawn(PDNS_BINARY, [`--config-dir=${dir}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    // Keep the tail only: enough to explain a failed start without growing forever.
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  server.stop = async () => {
    await stopChild(child, exited, 'pdns_server');
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(server, exited, spawnError, () => output);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

function configText(
  dir: string,
  database: string,
  dnsPort: number,
  webPort: number,
  apiKey: string,
): string {
  return [
    'launch=gsqlite3',
    `gsqlite3-database=${database}`,
    'local-address=127.0.0.1',
    `local-port=${dnsPort}`,
    'webserver=yes',
    'webserver-address=127.0.0.1',
    `webserver-port=${webPort}`,
    'webserver-allow-from=127.0.0.0/8',
    'api=yes',
    `api-key=${apiKey}`,
    'daemon=no',
    'guardian=no',
    // Empty: stay the current user (root in CI), so pdns can still read the files we wrote.
    'setuid=',
    'setgid=',
    `socket-dir=${dir}`,
    'disable-syslog=yes',
    // Tests change records and read them back over DNS at once; no cache may hide a change.
    'cache-ttl=0',
    'negquery-cache-ttl=0',
    'query-cache-ttl=0',
    'zone-cache-refresh-interval=0',
    // Two cores shared with the whole suite: one thread of each kind is plenty.
    'receiver-threads=1',
    'distributor-threads=1',
    'signing-threads=1',
    '',
  ].join('\n');
}

async function waitUntilReady(
  server: PowerDnsServer,
  exited: Promise<void>,
  spawnError: Promise<Error>,
  output: () => string,
): Promise<void> {
  let died = false;
  void exited.then(() => (died = true));
  let failedToSpawn: Error | undefined;
  void spawnError.then((err) => (failedToSpawn = err));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (failedToSpawn) {
      throw new Error(
        `could not run ${PDNS_BINARY} (apt-get install -y pdns-server): ${failedToSpawn.message}`,
      );
    }
    // A taken DNS port makes pdns exit; a taken webserver port only logs and keeps it running
    // without an API, so the log decides either way (the caller's stop() kills the process).
    if (/Address already in use/i.test(output())) {
      throw new PortInUseError(`pdns_server could not bind its ports:\n${output()}`);
    }
    if (died) {
      // Give the pipes a moment to deliver the last log lines.
      await sleep(20);
      if (/Address already in use/i.test(output())) {
        throw new PortInUseError(`pdns_server could not bind its ports:\n${output()}`);
      }
      throw new Error(`pdns_server exited during startup:\n${output()}`);
    }
    try {
      const response = await fetch(`${server.apiUrl}/api/v1/servers/${server.serverId}`, {
        headers: { 'X-API-Key': server.apiKey },
        signal: AbortSignal.timeout(1_000),
      });
      if (response.ok) {
        // The API thread starts apart from the DNS listeners; bound ports are only certain once
        // the server answers a query (a REFUSED answer counts).
        if (await answersDns(server)) return;
        lastError = new Error(`API is up but DNS on ${server.dnsAddress} does not answer yet`);
      } else {
        lastError = new Error(`API answered ${response.status}: ${await response.text()}`);
      }
    } catch (err) {
      lastError = err;
    }
    await sleep(50);
  }
  throw new Error(
    `pdns_server not ready after ${READY_TIMEOUT_MS} ms (${errorMessage(lastError)}):\n${output()}`,
  );
}

async function answersDns(server: PowerDnsServer): Promise<boolean> {
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([server.dnsAddress]);
  try {
    await resolver.resolveSoa('readiness.invalid');
    return true;
  } catch (err) {
    // Any DNS answer (NXDOMAIN, REFUSED, ...) proves the listener; a timeout does not.
    return isDnsError(err) && err.code !== 'ETIMEOUT' && err.code !== 'ECONNREFUSED';
  }
}

async function createZone(server: PowerDnsServer, zone: string): Promise<void> {
  const response = await fetch(`${server.apiUrl}/api/v1/servers/${server.serverId}/zones`, {
    method: 'POST',
    headers: { 'X-API-Key': server.apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: `${zone.replace(/\.$/, '')}.`,
      kind: 'Native',
      nameservers: [],
    }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) {
    throw new Error(`creating zone ${zone} failed: ${response.status} ${await response.text()}`);
  }
}

// Duck-typed for the same reason as errorMessage: node:dns errors are not a jest realm's Error.
function isDnsError(err: unknown): err is { code: string } {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string';
}

// Duck-typed, not `instanceof Error`: fetch's errors come from Node's own realm, which is not
// the realm of a jest test (its Error is another class).
function errorMessage(err: unknown): string {
  const message = (value: unknown): string | undefined =>
    typeof value === 'object' && value !== null && 'message' in value
      ? String(value.message) || ('code' in value ? String(value.code) : undefined)
      : undefined;
  // Node's fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, ...) in its cause.
  const cause =
    typeof err === 'object' && err !== null && 'cause' in err ? message(err.cause) : undefined;
  const own = message(err) ?? String(err);
  return cause ? `${own}: ${cause}` : own;
}
