/**
 * Server (2): our data plane, built exactly as apps/data-plane/src/main.ts builds it, from the
 * environment the bench passes in. Only the listening address and the IPC hand-shake differ.
 */
import { loadDataPlaneConfig } from '@platform/config';
import { listenOn } from '@platform/http';
import { createDataPlaneApp } from '../../apps/data-plane/src/data-plane.app';
import { failBenchChild, serveAsBenchChild } from '../lib/child-ipc';

async function main(): Promise<void> {
  const config = loadDataPlaneConfig(process.env);
  const app = await createDataPlaneApp(config);
  const port = await listenOn(app, 0, '127.0.0.1');
  serveAsBenchChild(port, () => app.close());
}

main().catch(failBenchChild);
