import { SingleBar } from 'cli-progress';
import { Command, CommandRunner, Option } from 'nest-commander';
import { TenantSchemaMigrator } from '@platform/database';
import { FleetPlanner } from '../fleet/fleet-planner.service';
import { MigrationRunsService } from '../fleet/migration-runs.service';
import type { MigrationRunView } from '../fleet/migration-run.types';

interface MigrateOptions {
  to?: number;
  concurrency?: number;
  canary?: number;
  tenants?: string[];
  maxFailures?: number;
  dryRun?: boolean;
  resume?: string;
}

const POLL_MS = 250;
const FAILURES_PRINTED = 20;

function positiveInteger(flag: string, value: string, min = 0): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new Error(`${flag} must be an integer ≥ ${min}`);
  }
  return parsed;
}

/**
 * `tenants:migrate`: plans (--dry-run) or starts a fleet migration run and follows it with a
 * progress bar. This process works on the run itself and any running worker helps. Exit code 0
 * only when the run completed with every tenant at the target; Ctrl-C pauses the run.
 */
/** The one command that works on fleet jobs itself (CliModule adds the fleet worker for it). */
export const TENANTS_MIGRATE_COMMAND = 'tenants:migrate';

@Command({
  name: TENANTS_MIGRATE_COMMAND,
  description: 'Migrate every tenant schema to a template version (a recorded, resumable run)',
})
export class TenantsMigrateCommand extends CommandRunner {
  constructor(
    private readonly runs: MigrationRunsService,
    private readonly planner: FleetPlanner,
    private readonly migrator: TenantSchemaMigrator,
  ) {
    super();
  }

  async run(_params: string[], options: MigrateOptions): Promise<void> {
    const target = options.to ?? this.migrator.latestVersion;
    if (options.dryRun) {
      await this.printPlan(target);
      return;
    }
    const started = options.resume
      ? await this.runs.resume(options.resume)
      : await this.runs.create(
          {
            targetVersion: target,
            concurrency: options.concurrency,
            maxFailures: options.maxFailures,
            canaryCount: options.canary,
            canaryTenants: options.tenants,
          },
          'cli',
        );
    console.log(`run ${started.id}: ${started.total} tenants → version ${started.targetVersion}`);
    const finished = await this.follow(started);
    this.printSummary(finished);
    process.exitCode = finished.status === 'completed' && finished.counts.failed === 0 ? 0 : 1;
  }

  private async follow(run: MigrationRunView): Promise<MigrationRunView> {
    const bar = new SingleBar({
      format:
        '{bar} {percentage}% | {value}/{total} tenants | failed {failed} | {rate}/s | ETA {eta_formatted}',
      noTTYOutput: true,
      notTTYSchedule: 2000,
      etaBuffer: 50,
    });
    const startedAt = Date.now();
    const done = (view: MigrationRunView) =>
      view.counts.succeeded + view.counts.failed + view.counts.skipped;
    bar.start(run.total, done(run), { failed: run.counts.failed, rate: '0' });
    let interrupted = false;
    const onInterrupt = () => {
      interrupted = true;
    };
    process.once('SIGINT', onInterrupt);
    try {
      let view = run;
      while (view.status === 'running' && !interrupted) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        view = await this.runs.view(run.id);
        const rate = (done(view) / Math.max((Date.now() - startedAt) / 1000, 0.001)).toFixed(1);
        bar.update(done(view), { failed: view.counts.failed, rate });
      }
      if (interrupted && view.status === 'running') {
        view = await this.runs.pause(run.id);
        console.log(`\npaused; continue with: npm run cli -- tenants:migrate --resume ${run.id}`);
      }
      return view;
    } finally {
      bar.stop();
      process.removeListener('SIGINT', onInterrupt);
    }
  }

  private async printPlan(target: number): Promise<void> {
    const plan = await this.planner.plan(target);
    console.log(
      `dry run: ${plan.pending} of ${plan.tenants} tenants would change (target ${plan.targetVersion}, latest ${plan.latestVersion}); nothing was changed`,
    );
    console.table(
      plan.groups.map((group) => ({
        'from version': group.fromVersion,
        tenants: group.tenants,
        migrations:
          group.migrations.map((m) => `${m.direction === 'up' ? '+' : '-'}${m.name}`).join(', ') ||
          '(none)',
        examples: group.sampleTenants.slice(0, 3).join(', '),
      })),
    );
  }

  private printSummary(run: MigrationRunView): void {
    const seconds = run.startedAt
      ? ((run.finishedAt?.getTime() ?? Date.now()) - new Date(run.startedAt).getTime()) / 1000
      : 0;
    console.table([
      {
        run: run.id,
        status: run.status,
        target: run.targetVersion,
        succeeded: run.counts.succeeded,
        failed: run.counts.failed,
        skipped: run.counts.skipped,
        pending: run.counts.pending + run.counts.running,
        seconds: Number(seconds.toFixed(1)),
      },
    ]);
    if (run.statusReason) console.log(`reason: ${run.statusReason}`);
    if (run.failures.length > 0) {
      console.table(
        run.failures.slice(0, FAILURES_PRINTED).map((failure) => ({
          tenant: failure.slug,
          'at version': failure.fromVersion,
          error: (failure.error ?? '').slice(0, 100),
        })),
      );
    }
  }

  @Option({ flags: '--to <version>', description: 'target template version (default: latest)' })
  parseTo(value: string): number {
    return positiveInteger('--to', value);
  }

  @Option({ flags: '--concurrency <n>', description: 'tenants migrated at once (1-64, default 4)' })
  parseConcurrency(value: string): number {
    return positiveInteger('--concurrency', value, 1);
  }

  @Option({
    flags: '--canary <n>',
    description: 'migrate N tenants first, alone; stop if one fails',
  })
  parseCanary(value: string): number {
    return positiveInteger('--canary', value, 1);
  }

  @Option({
    flags: '--tenants <slugs>',
    description: 'canary tenants by slug or id, comma-separated',
  })
  parseTenants(value: string): string[] {
    return value
      .split(',')
      .map((slug) => slug.trim())
      .filter(Boolean);
  }

  @Option({ flags: '--max-failures <n>', description: 'stop once more than N tenants failed' })
  parseMaxFailures(value: string): number {
    return positiveInteger('--max-failures', value);
  }

  @Option({
    flags: '--dry-run',
    description: 'list pending migrations per version group; change nothing',
  })
  parseDryRun(): boolean {
    return true;
  }

  @Option({ flags: '--resume <run>', description: 'continue a paused or failed run' })
  parseResume(value: string): string {
    return value;
  }
}
