import { Command, CommandRunner } from 'nest-commander';
import { FleetPlanner } from '../fleet/fleet-planner.service';

/** Fleet overview: tenants per template version and status, and who failed last. */
@Command({
  name: 'tenants:status',
  description: 'Tenants per template version and status (drift), and the last failures',
})
export class TenantsStatusCommand extends CommandRunner {
  constructor(private readonly planner: FleetPlanner) {
    super();
  }

  async run(): Promise<void> {
    const status = await this.planner.status();
    console.log(`latest template version: ${status.latestVersion}`);
    console.table(
      status.byVersion.map((row) => ({
        'template version': row.version,
        status: row.status,
        tenants: row.tenants,
        behind: row.version < status.latestVersion ? 'yes' : '',
      })),
    );
    if (status.lastFailures.length > 0) {
      console.log('tenants whose last migration failed:');
      console.table(
        status.lastFailures.map((failure) => ({
          tenant: failure.slug,
          run: failure.runId,
          at: failure.at,
          error: (failure.error ?? '').slice(0, 100),
        })),
      );
    }
  }
}
