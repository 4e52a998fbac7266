import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './free-port';

/** The data plane's login by default (DATA_PLANE_DATABASE_USER). */
const DATA_PLANE_LOGIN = 'platform_data_plane';

export interface PgBouncerOptions {
  databaseUrl: string;
  poolSize?: number;
  poolMode?: 'transaction' | 'session';
  /**
   * More users PgBouncer lets in (trust, no password), besides the URL's own: by default the
   * data plane's login, which the data plane uses whatever user its URL names.
   */
  extraUsers?: readonly string[];
}

export interface PgBouncerHandle {
  port: number;
  url: string;
  stop(): Promise<void>;
}

interface Target {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

interface Paths {
  dir: string;
  config: string;
  authFile: string;
  log: string;
  pid: string;
}

// pgbouncer refuses to run as root, so as root it is started with `-u postgres`; after dropping
// privileges it opens its log and pid files, hence everything it touches belongs to this user.
const RUN_AS = 'postgres';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const KILL_WAIT_MS = 2_000;
const POLL_MS = 50;
// A free port can be taken between freePort() and pgbouncer's bind; a fresh port usually works.
const START_ATTEMPTS = 3;
// The [databases] key is written unquoted into the ini file.
const SAFE_DB_NAME = /^[A-Za-z0-9_]+$/;
// Debian installs pgbouncer in /usr/sbin, which is not on every non-root PATH.
const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a private PgBouncer in front of one database; `stop()` kills it and deletes its files. */
export async function startPgBouncer(opts: PgBouncerOptions): Promise<PgBouncerHandle> {
  const binary = await findBinary();
  const target = parseTarget(opts.databaseUrl);
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(binary, target, opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {}

async function startOnce(
  binary: string,
  target: Target,
  opts: PgBouncerOptions,
): Promise<PgBouncerHandle> {
  const port = await freePort();
  const paths = await writeFiles(target, port, opts);
  const url = bouncerUrl(opts.databaseUrl, port);
  try {
    await launch(binary, paths);
    await waitUntilReady(url, paths);
    const pid = await readPid(paths);
    return { port, url, stop: () => stopDaemon(pid, paths) };
  } catch (err) {
    await cleanupAfterFailedStart(paths);
    throw err;
  }
}

async function findBinary(): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, 'pgbouncer');
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error('pgbouncer binary not found: run `apt-get install -y pgbouncer`');
}

function parseTarget(databaseUrl: string): Target {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!SAFE_DB_NAME.test(database)) {
    throw new Error(`startPgBouncer: unsupported database name ${JSON.stringify(database)}`);
  }
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
    database,
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
  };
}

function bouncerUrl(databaseUrl: string, port: number): string {
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

function configText(target: Target, port: number, paths: Paths, opts: PgBouncerOptions): string {
  return [
    '[databases]',
    `${target.database} = host=${target.host} port=${target.port} dbname=${target.database}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    // An empty value disables the unix socket, which would otherwise clash on /tmp/.s.PGSQL.<port>.
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${paths.authFile}`,
    `pool_mode = ${opts.poolMode ?? 'transaction'}`,
    `default_pool_size = ${opts.poolSize ?? 4}`,
    'max_client_conn = 2000',
    // node-postgres and psql send these; pgbouncer rejects unknown startup parameters otherwise.
    'ignore_startup_parameters = extra_float_digits,options',
    `logfile = ${paths.log}`,
    `pidfile = ${paths.pid}`,
    '',
  ].join('\n');
}

// Even with auth_type = trust the user must be listed; the password is what pgbouncer uses
// when the server itself asks for one.
function authFileText(target: Target, extraUsers: readonly string[]): string {
  const quote = (value: string): string => `"${value.replace(/"/g, '""')}"`;
  const extra = extraUsers.filter((user) => user !== target.user);
  return [
    `${quote(target.user)} ${quote(target.password)}\n`,
    ...extra.map((user) => `${quote(user)} ""\n`),
  ].join('');
}

async function writeFiles(target: Target, port: number, opts: PgBouncerOptions): Promise<Paths> {
  // Not mkdtemp: its 0700 root-owned directory is unreachable once pgbouncer drops to postgres.
  const dir = join('/tmp', `pgbouncer-${randomBytes(6).toString('hex')}`);
  const paths: Paths = {
    dir,
    config: join(dir, 'pgbouncer.ini'),
    authFile: join(dir, 'userlist.txt'),
    log: join(dir, 'pgbouncer.log'),
    pid: join(dir, 'pgbouncer.pid'),
  };
  await mkdir(dir, { mode: 0o755 });
  await writeFile(paths.config, configText(target, port, paths, opts), { mode: 0o644 });
  await writeFile(paths.authFile, authFileText(target, opts.extraUsers ?? [DATA_PLANE_LOGIN]), {
    mode: 0o600,
  });
  if (runningAsRoot()) {
    const owner = await lookupUser(RUN_AS);
    for (const path of [dir, paths.config, paths.authFile]) await chown(path, owner.uid, owner.gid);
  }
  return paths;
}

function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

async function lookupUser(name: string): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string): Promise<number> =>
    Number((await execFileAsync('id', [flag, name])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

/** Runs `pgbouncer -d`, whose foreground process exits once the daemon has forked. */
async function launch(binary: string, paths: Paths): Promise<void> {
  const args = runningAsRoot() ? ['-d', '-u', RUN_AS, paths.config] : ['-d', paths.config];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(
      `pgbouncer exited with code ${String(code)}: ${stderr.trim()}\n${await logTail(paths)}`,
    );
  }
}

async function waitUntilReady(url: string, paths: Paths): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await selectOne(url);
      return;
    } catch (err) {
      // An SQLSTATE means pgbouncer is up and answered with a login error (e.g. the database is
      // missing upstream); retrying cannot help, and server_login_retry would stall later tries.
      if (hasSqlState(err)) {
        throw new Error(`pgbouncer rejected SELECT 1: ${err.message}\n${await logTail(paths)}`);
      }
      lastError = err;
    }
    await failIfDaemonDied(paths);
    await sleep(100);
  }
  throw new Error(
    `pgbouncer not ready after ${READY_TIMEOUT_MS} ms (${errorMessage(lastError)})\n${await logTail(paths)}`,
  );
}

// `pgbouncer -d` exits 0 before binding, so a bind failure only shows up in the log.
async function failIfDaemonDied(paths: Paths): Promise<void> {
  const log = await readLog(paths);
  // Anchored on the log level: upstream login errors also contain "FATAL" inside a WARNING line.
  if (!/\] FATAL /.test(log)) return;
  const tail = await logTail(paths);
  if (log.includes('Address already in use'))
    throw new PortInUseError(`pgbouncer could not bind its port\n${tail}`);
  throw new Error(`pgbouncer died during startup\n${tail}`);
}

async function selectOne(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  // A connection refused while pgbouncer is still starting surfaces here as well as in connect().
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readPid(paths: Paths): Promise<number> {
  const pid = Number((await readFile(paths.pid, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`bad pgbouncer pidfile ${paths.pid}`);
  return pid;
}

async function stopDaemon(pid: number, paths: Paths): Promise<void> {
  signal(pid, 'SIGTERM');
  if (!(await waitForExit(pid, STOP_GRACE_MS))) {
    signal(pid, 'SIGKILL');
    if (!(await waitForExit(pid, KILL_WAIT_MS))) {
      throw new Error(`pgbouncer pid ${pid} survived SIGKILL; files left in ${paths.dir}`);
    }
  }
  await rm(paths.dir, { recursive: true, force: true });
}

async function cleanupAfterFailedStart(paths: Paths): Promise<void> {
  const pid = await readPid(paths).catch(() => undefined);
  if (pid !== undefined) {
    signal(pid, 'SIGKILL');
    await waitForExit(pid, KILL_WAIT_MS);
  }
  await rm(paths.dir, { recursive: true, force: true });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if (!isNoSuchProcess(err)) throw err;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return true;
    await sleep(POLL_MS);
  }
  return !(await isAlive(pid));
}

// The daemon is re-parented away from us; if nobody reaps it, kill(pid, 0) keeps succeeding on
// the zombie, so a zombie counts as gone.
async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (isNoSuchProcess(err)) return false;
    throw err;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

function hasSqlState(err: unknown): err is Error & { code: string } {
  return (
    err instanceof Error &&
    'code' in err &&
    typeof err.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(err.code)
  );
}

function isNoSuchProcess(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'ESRCH';
}

async function readLog(paths: Paths): Promise<string> {
  return readFile(paths.log, 'utf8').catch(() => '');
}

async function logTail(paths: Paths, lines = 20): Promise<string> {
  const log = await readLog(paths);
  if (!log) return `(no pgbouncer log at ${paths.log})`;
  return `pgbouncer log tail (${paths.log}):\n${log.trimEnd().split('\n').slice(-lines).join('\n')}`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
