/**
 * The child side of a benchmark server process. The parent spawns each server with an IPC
 * channel; through it the child says which port it listens on and, when asked, reports its
 * memory (after a full GC when started with --expose-gc). When the channel closes (the parent
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

export type ChildMessage = ReadyMessage | MemoryMessage;

export interface ParentMessage {
  readonly type: 'memory';
}

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
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'memory') return;
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
