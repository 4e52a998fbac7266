/**
 * `npm start`: runs the control plane, the job worker and the data plane as three processes
 * (as they run in production), prefixes their output, and stops all of them when one dies or
 * on Ctrl-C. Configuration comes from the environment (see README).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadControlPlaneConfig } from '@platform/config';

const processes = [
  { name: 'control-plane', entry: 'apps/control-plane/src/main.js' },
  { name: 'worker', entry: 'apps/control-plane/src/worker.js' },
  { name: 'data-plane', entry: 'apps/data-plane/src/main.js' },
];

const distRoot = join(__dirname, '..');
const children: ChildProcess[] = [];
let stopping = false;

function prefixLines(name: string, chunk: Buffer, sink: NodeJS.WriteStream): void {
  for (const line of chunk.toString().split('\n')) {
    if (line.length > 0) sink.write(`[${name}] ${line}\n`);
  }
}

function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 5_000).unref();
  Promise.all(children.map((child) => new Promise((done) => child.once('exit', done)))).then(
    () => process.exit(code),
    () => process.exit(code),
  );
}

function start(name: string, entry: string): void {
  const child = spawn(process.execPath, ['--enable-source-maps', join(distRoot, entry)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => prefixLines(name, chunk, process.stdout));
  child.stderr?.on('data', (chunk: Buffer) => prefixLines(name, chunk, process.stderr));
  child.once('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`[${name}] exited with code ${code ?? 'null'}; stopping the platform\n`);
      stopAll(code ?? 1);
    }
  });
  children.push(child);
}

/**
 * The control plane first: it creates the database, migrates the registry and creates the data
 * plane's own database login, which the data plane needs before it can connect at all.
 */
async function waitForControlPlane(): Promise<void> {
  // An invalid configuration is the control plane's to report (it exits, and so does this).
  let port = 3001;
  try {
    port = loadControlPlaneConfig().port;
  } catch {
    // Keep the default; the control plane's own exit stops the platform.
  }
  const deadline = Date.now() + 120_000;
  while (!stopping && Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/live`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!stopping) {
    process.stderr.write('[platform] the control plane did not come up within 120 s\n');
    stopAll(1);
  }
}

async function startAll(): Promise<void> {
  const [first, ...rest] = processes;
  start(first.name, first.entry);
  await waitForControlPlane();
  if (stopping) return;
  for (const { name, entry } of rest) start(name, entry);
}

void startAll();

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
