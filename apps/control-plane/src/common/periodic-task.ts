import type { Logger } from '@nestjs/common';

/**
 * Runs `work` every `intervalMs` in the background of a worker, never two at once (a slow round
 * makes the next tick a no-op), logging failures instead of crashing: the next round retries.
 * `stop()` waits for the round in flight, so shutdown does not cut a round in half.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Starts ticking; with `runNow`, the first round starts at once. */
  start(runNow: boolean): void {
    if (runNow) this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    this.running = this.work()
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, `${this.name} failed; the next round retries`),
      )
      .finally(() => {
        this.running = null;
      });
  }
}
