/**
 * A control-plane worker in its own process, exactly as worker.ts builds it (`createWorker`),
 * for the bench's `processes` phase: its fleet claimers take jobs from the bench's queue. Its
 * health/metrics server listens on a free loopback port, which it reports to the parent.
 */
import { loadControlPlaneConfig } from '@platform/config';
import { listenOn } from '@platform/http';
import { createWorker } from '../../apps/control-plane/src/control-plane.app';
import { failBenchChild, serveAsBenchChild } from './child-ipc';

async function main(): Promise<void> {
  const worker = await createWorker(loadControlPlaneConfig(process.env));
  const port = await listenOn(worker, 0, '127.0.0.1');
  serveAsBenchChild(port, () => worker.close());
}

main().catch(failBenchChild);
