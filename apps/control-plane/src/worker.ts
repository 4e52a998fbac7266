import { Logger } from 'nestjs-pino';
import { loadControlPlaneConfig } from '@platform/config';
import { createWorker } from './control-plane.app';

async function main(): Promise<void> {
  const worker = await createWorker(loadControlPlaneConfig());
  worker.get(Logger).log('worker started: provisioning queue');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
