/**
 * The parent side: starts a server file in its own Node process (`node -r @swc-node/register`),
 * waits for it to listen, reads its RSS and CPU time from /proc, and stops it. Every child is
 * registered so that `killAllChildren()` (called from finally blocks and process exit handlers)
 * can end whatever is still running, whatever way the bench ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildMessage, MemoryMessage, ParentMessage, PausesMessage } from './child-ipc';

const REPO_ROOT = join(__dirname, '..', '..');
const START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5_000;
/** Kernel clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

const running = new Set<ChildProcess>();

export interface ServerChild {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** VmRSS from /proc/<pid>/status, in bytes. */
  rssBytes(): number;
  /** User + system CPU time of the process so far, in milliseconds. */
  cpuMs(): number;
  /** The child's process.memoryUsage() after a full GC (when started with --expose-gc). */
  memoryAfterGc(): Promise<MemoryMessage>;
  /** Starts counting the child's pauses (event-loop delay, GC) afresh. */
  startPauses(): void;
  /** The child's pauses since `startPauses`. */
  pauses(): Promise<PausesMessage>;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  /** Path relative to the repository root. */
  readonly entry: string;
  readonly env: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. --expose-gc for the memory phase. */
  readonly nodeArgs?: readonly string[];
}

export async function startServerChild(options: StartOptions): Promise<ServerChild> {
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=.tmp/prof") profiles the servers.
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...(options.nodeArgs ?? []), ...extra, '-r', '@swc-node/register'];
  const child = spawn(process.execPath, [...args, join(REPO_ROOT, options.entry)], {
    cwd: REPO_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const tail: string[] = [];
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim().length === 0) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      process.stderr.write(`  [${options.name}] ${line.slice(0, 400)}\n`);
    }
  };
  child.stdout?.on('data', relay);
  child.stderr?.on('data', relay);

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.name} did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message.port);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${options.name} exited before listening (code ${code}, signal ${signal}):\n${tail.join('\n')}`,
          ),
        );
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const pid = child.pid!;

  return {
    name: options.name,
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    rssBytes: () => readRssBytes(pid),
    cpuMs: () => readCpuMs(pid),
    memoryAfterGc: () => ask<MemoryMessage>(child, 'memory'),
    startPauses: () => {
      const request: ParentMessage = { type: 'pauses-start' };
      child.send(request);
    },
    pauses: () => ask<PausesMessage>(child, 'pauses'),
    stop: () => stopChild(child),
  };
}

/** Sends the child a request and waits for its answer of the same type. */
function ask<T extends ChildMessage>(child: ChildProcess, type: T['type'] & ParentMessage['type']) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} report within 10 s`)), 10_000);
    const onMessage = (message: ChildMessage) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    const request: ParentMessage = { type };
    child.send(request);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Synchronous on purpose: it also runs from a process 'exit' handler. */
export function killAllChildren(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
}

export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields after its closing paren are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU time used so far by every PostgreSQL process on this machine (backends, walwriter, ...),
 * in milliseconds, including backends that already exited (the postmaster's reaped-children
 * times). The delta over a run is what the database cost, on the cores the servers share.
 */
export function readPostgresCpuMs(): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (name !== 'postgres') continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}
