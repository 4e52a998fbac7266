import { Logger } from 'nestjs-pino';
import { loadDataPlaneConfig } from '@platform/config';
import { listenOn } from '@platform/http';
import { createDataPlaneApp } from './data-plane.app';
import { DataPlaneHttpsServer } from './tls/data-plane-https.server';

async function main(): Promise<void> {
  const config = loadDataPlaneConfig();
  const app = await createDataPlaneApp(config);
  const port = await listenOn(app, config.port, config.host);
  const https = config.tls ? `, HTTPS on :${app.get(DataPlaneHttpsServer).port}` : '';
  app
    .get(Logger)
    .log(`data plane listening on ${config.host}:${port}${https} (*.${config.platformDomain})`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
