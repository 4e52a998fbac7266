import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname, userInfo } from 'node:os';

/** Which process made a change: an HTTP request, a background job, or the SRE CLI. */
export type AuditSource = 'api' | 'worker' | 'cli';

/** Where a change came from, as recorded with each audit entry. */
export interface AuditOrigin {
  readonly source: AuditSource;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /**
   * Read when an entry is written, not when the origin is set: the request id and the operator
   * are known only once the logger middleware and the auth guard have run.
   */
  readonly requestId: () => string | null;
  readonly operatorId: () => string | null;
  /** How the caller is named in the log (e.g. `operator:<email>`), when a guard named it. */
  readonly actor: () => string | null;
}

const storage = new AsyncLocalStorage<AuditOrigin>();

const none = (): null => null;

/**
 * Work outside any request or CLI command is a background job: the worker's processors and
 * periodic tasks. Unlike the tenant context, a missing origin is not an error: a job's change
 * is still recorded, as the worker's.
 */
const WORKER_ORIGIN: AuditOrigin = {
  source: 'worker',
  ip: null,
  userAgent: null,
  requestId: none,
  operatorId: none,
  actor: none,
};

export const AuditOrigins = {
  current(): AuditOrigin {
    return storage.getStore() ?? WORKER_ORIGIN;
  },

  /** Runs `work` with `origin`; the previous origin (if any) is back when `work` settles. */
  run<T>(origin: AuditOrigin, work: () => T): T {
    return storage.run(origin, work);
  },

  /** The CLI's origin: the account and machine it runs on stand in for the client. */
  cli(): AuditOrigin {
    return {
      source: 'cli',
      ip: null,
      userAgent: `cli ${osUser()}@${hostname()}`,
      requestId: none,
      operatorId: none,
      actor: none,
    };
  },
};

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // A container user without a passwd entry.
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
