import type { ChildProcess } from 'node:child_process';

const STOP_GRACE_MS = 3_000;
const KILL_WAIT_MS = 2_000;
// A free port can be taken between freePort() and the server's bind; fresh ports usually work.
const START_ATTEMPTS = 3;

/** Thrown by a server's start when a port it was given turned out to be taken. */
export class PortInUseError extends Error {}

/** Runs `start` again (with fresh ports, its job) while it fails with PortInUseError. */
export async function retryOnPortInUse<T>(start: () => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await start();
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastError;
}

/** SIGTERM, then SIGKILL after a grace period; throws if the process outlives even that. */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  name: string,
): Promise<void> {
  // No pid: it never started. An exit or signal code: it is already gone.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await settlesWithin(exited, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  if (!(await settlesWithin(exited, KILL_WAIT_MS))) {
    throw new Error(`${name} pid ${String(child.pid)} survived SIGKILL`);
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
