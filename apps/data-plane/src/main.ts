import { Logger } from 'nestjs-pino';
import { loadDataPlaneConfig } from '@platform/config';
import { listenOn } from '@platform/http';
import { createDataPlaneApp } from './data-plane.app';

async function main(): Promise<void> {
  const config = loadDataPlaneConfig();
  const app = await createDataPlaneApp(config);
  const port = await listenOn(app, config.port, config.host);
  app
    .get(Logger)
    .log(`data plane listening on ${config.host}:${port} (*.${config.platformDomain})`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
