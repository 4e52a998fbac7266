/** Server (1): the baseline Nest app in its own process, reading the schema in BENCH_SCHEMA. */
import { listenOn } from '@platform/http';
import { failBenchChild, serveAsBenchChild } from '../lib/child-ipc';
import { loadOwnerConfig } from '../lib/owner-config';
import { createBaselineApp } from './baseline.app';

async function main(): Promise<void> {
  const schema = process.env.BENCH_SCHEMA;
  if (!schema) throw new Error('BENCH_SCHEMA is required');
  // No tenancy means no tenant roles either: the baseline reads its one schema as the owner.
  const config = loadOwnerConfig(process.env);
  const app = await createBaselineApp(config, schema);
  const port = await listenOn(app, 0, '127.0.0.1');
  serveAsBenchChild(port, () => app.close());
}

main().catch(failBenchChild);
