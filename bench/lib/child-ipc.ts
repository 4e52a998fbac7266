import {
  constants,
  monitorEventLoopDelay,
  PerformanceObserver,
  type PerformanceEntry,
} from 'node:perf_hooks';

/**
 * The child side of a benchmark server process. The parent spawns each server with an IPC
 * channel; through it the child says which port it listens on and, when asked, reports its
 * memory (after a full GC when started with --expose-gc) and its pauses over a window (how late
 * its event loop ran, and its garbage collections). When the channel closes (the parent
 * finished, crashed or was killed) the child exits on its own, so no server outlives a run.
 */

export interface ReadyMessage {
  readonly type: 'ready';
  readonly port: number;
}

export interface MemoryMessage {
  readonly type: 'memory';
  readonly gc: boolean;
  readonly usage: NodeJS.MemoryUsage;
}

/** Since the last `pauses-start`: what made the server's requests wait on the server itself. */
export interface PausesMessage {
  readonly type: 'pauses';
  /** How late the event loop ran a timer, sampled every LOOP_SAMPLE_MS. */
  readonly loopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Young-generation collections (scavenges): count, total and longest pause. */
  readonly minorGc: GcPauses;
  /** Every other collection (mark-compact, incremental marking steps, weak callbacks). */
  readonly majorGc: GcPauses;
}

export interface GcPauses {
  readonly count: number;
  readonly totalMs: number;
  readonly longestMs: number;
}

export type ChildMessage = ReadyMessage | MemoryMessage | PausesMessage;

export interface ParentMessage {
  readonly type: 'memory' | 'pauses-start' | 'pauses';
}

/** Coarse on purpose: finer sampling costs the server CPU; the stalls that matter are longer. */
const LOOP_SAMPLE_MS = 5;

export function serveAsBenchChild(port: number, close: () => Promise<void>): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('bench server children must be started by the bench (IPC channel)');
  let closing = false;
  const exitAfterClose = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 3_000).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('disconnect', exitAfterClose);
  const pauses = watchPauses();
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'pauses-start') {
      pauses.reset();
      return;
    }
    if (message.type === 'pauses') {
      send(pauses.read());
      return;
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const reply: MemoryMessage = { type: 'memory', gc: Boolean(gc), usage: process.memoryUsage() };
    send(reply);
  });
  const ready: ReadyMessage = { type: 'ready', port };
  send(ready);
}

export function failBenchChild(error: unknown): never {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
}

function watchPauses(): { reset(): void; read(): PausesMessage } {
  const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loop.enable();
  const empty = (): { count: number; totalMs: number; longestMs: number } => ({
    count: 0,
    totalMs: 0,
    longestMs: 0,
  });
  let minor = empty();
  let major = empty();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      const pauses = kind === constants.NODE_PERFORMANCE_GC_MINOR ? minor : major;
      pauses.count += 1;
      pauses.totalMs += entry.duration;
      pauses.longestMs = Math.max(pauses.longestMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  // The histogram is in nanoseconds, and counts the sampling interval itself as delay.
  const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
  return {
    reset() {
      loop.reset();
      minor = empty();
      major = empty();
    },
    read() {
      return {
        type: 'pauses',
        loopDelayMs: {
          p50: ms(loop.percentile(50)),
          p99: ms(loop.percentile(99)),
          max: ms(loop.max),
        },
        minorGc: { ...minor },
        majorGc: { ...major },
      };
    },
  };
}
