import { Logger } from 'nestjs-pino';
import { loadControlPlaneConfig } from '@platform/config';
import { listenOn } from '@platform/http';
import { createWorker } from './control-plane.app';

async function main(): Promise<void> {
  const config = loadControlPlaneConfig();
  const worker = await createWorker(config);
  const port = await listenOn(worker, config.workerPort, config.host);
  worker.get(Logger).log(`worker started (provisioning, fleet migrations); health on :${port}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
