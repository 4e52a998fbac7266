/**
 * CPU time of the PostgreSQL backends that serve one application (by `application_name`), read
 * from /proc. Unlike `readPostgresCpuMs` (every PostgreSQL process on the machine), this leaves
 * out whatever else uses the database meanwhile: test suites of other sessions, autovacuum, the
 * checkpointer. A backend that exits during a window takes its time with it, so the bench also
 * keeps the machine-wide figure.
 */
import { Client } from 'pg';
import { readCpuMs } from './child-server';

export interface BackendCpuProbe {
  /** CPU ms used since the previous call (or since `start`) by the application's backends. */
  read(): Promise<number>;
  close(): Promise<void>;
}

export async function probeBackendCpu(
  databaseUrl: string,
  applicationNames: readonly string[],
): Promise<BackendCpuProbe> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'bench-probe' });
  await client.connect();
  let last = new Map<number, number>();
  const sample = async (): Promise<Map<number, number>> => {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = ANY($1)',
      [applicationNames],
    );
    const now = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        now.set(pid, readCpuMs(pid));
      } catch {
        // exited between the query and the read
      }
    }
    return now;
  };
  last = await sample();
  return {
    async read() {
      const now = await sample();
      let used = 0;
      for (const [pid, ms] of now) used += ms - (last.get(pid) ?? 0);
      last = now;
      return used;
    },
    close: () => client.end(),
  };
}
