import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../free-port';
import { PortInUseError, retryOnPortInUse, stopChild } from './child-process.util';

export interface PebbleOptions {
  /** Where Pebble resolves challenge records, e.g. PowerDNS's `dnsAddress` (`127.0.0.1:<port>`). */
  dnsServer: string;
}

export interface PebbleServer {
  /** `https://127.0.0.1:<port>/dir`, served with `listenerCaPem`. */
  directoryUrl: string;
  /** Self-signed certificate of Pebble's HTTPS listeners: the CA to trust for the directory. */
  listenerCaPem: string;
  /**
   * The root that signs issued certificates. Pebble makes a new one on every start, so it is
   * fetched from the management interface rather than known in advance.
   */
  rootCaPem(): Promise<string>;
  /** The port Pebble connects to on the identifier for HTTP-01 validation. */
  httpChallengePort: number;
  /** The port Pebble connects to on the identifier for TLS-ALPN-01 validation. */
  tlsChallengePort: number;
  stop(): Promise<void>;
}

const PEBBLE_BINARY = 'pebble';
// Pebble generates its root and intermediate keys before listening (about a second here).
const READY_TIMEOUT_MS = 15_000;

const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a private Pebble (Let's Encrypt's test CA) on free loopback ports, following SPEC.md's
 * recipe: a self-signed listener certificate, a JSON config, DNS-01 lookups through `dnsServer`.
 * `stop()` kills it and deletes its directory.
 */
export async function startPebble(options: PebbleOptions): Promise<PebbleServer> {
  return retryOnPortInUse(() => startOnce(options));
}

async function startOnce(options: PebbleOptions): Promise<PebbleServer> {
  const dir = await mkdtemp(join(tmpdir(), 'pebble-'));
  const [acmePort, managementPort, httpChallengePort, tlsChallengePort] =
    await distinctFreePorts(4);
  const removeDir = (): Promise<void> => rm(dir, { recursive: true, force: true });

  let listenerCaPem: string;
  const configPath = join(dir, 'pebble-config.json');
  try {
    listenerCaPem = await makeListenerCertificate(dir);
    await writeFile(
      configPath,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${acmePort}`,
          managementListenAddress: `127.0.0.1:${managementPort}`,
          certificate: join(dir, 'listener.crt'),
          privateKey: join(dir, 'listener.key'),
          httpPort: httpChallengePort,
          tlsPort: tlsChallengePort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
  } catch (err) {
    await removeDir();
    throw err;
  }

  const child = spawn(PEBBLE_BINARY, ['-config', configPath, '-dnsserver', options.dnsServer], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // Validate at once instead of sleeping up to 5 s per challenge.
      PEBBLE_VA_NOSLEEP: '1',
      // By default 5% of good nonces are rejected to exercise client retries; tests want
      // determinism (acme-client does retry badNonce, but a flaky suite hides real failures).
      PEBBLE_WFE_NONCEREJECT: '0',
    },
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

  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const stop = async (): Promise<void> => {
    await stopChild(child, exited, 'pebble');
    await removeDir();
  };

  try {
    await waitUntilReady(directoryUrl, listenerCaPem, exited, spawnError, () => output);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    directoryUrl,
    listenerCaPem,
    rootCaPem: async () => {
      const { status, body } = await httpsGet(
        `https://127.0.0.1:${managementPort}/roots/0`,
        listenerCaPem,
      );
      if (status !== 200) throw new Error(`pebble /roots/0 answered ${status}: ${body}`);
      return body;
    },
    httpChallengePort,
    tlsChallengePort,
    stop,
  };
}

/** A self-signed certificate valid for `localhost` and `127.0.0.1`, written beside the config. */
async function makeListenerCertificate(dir: string): Promise<string> {
  const certificate = join(dir, 'listener.crt');
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, 'listener.key'),
    '-out',
    certificate,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  return readFile(certificate, 'utf8');
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  // Two quick freePort() calls can return the same port number.
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function waitUntilReady(
  directoryUrl: string,
  listenerCaPem: string,
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
        `could not run ${PEBBLE_BINARY} (apt-get install -y pebble): ${failedToSpawn.message}`,
      );
    }
    if (died) {
      // Give the pipes a moment to deliver the last log lines.
      await sleep(20);
      const log = output();
      if (/address already in use/i.test(log)) {
        throw new PortInUseError(`pebble could not bind its ports:\n${log}`);
      }
      throw new Error(`pebble exited during startup:\n${log}`);
    }
    try {
      const { status, body } = await httpsGet(directoryUrl, listenerCaPem);
      // The ACME listener starts after the management one, so a directory answer means both.
      if (status === 200 && body.includes('newOrder')) return;
      lastError = new Error(`directory answered ${status}: ${body}`);
    } catch (err) {
      lastError = err;
    }
    await sleep(50);
  }
  throw new Error(
    `pebble not ready after ${READY_TIMEOUT_MS} ms (${errorMessage(lastError)}):\n${output()}`,
  );
}

// node:https rather than fetch: fetch cannot be told to trust one extra CA per request.
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
