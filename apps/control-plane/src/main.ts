import { Logger } from 'nestjs-pino';
import { loadControlPlaneConfig } from '@platform/config';
import { listenOn } from '@platform/http';
import { createControlPlaneApp } from './control-plane.app';

async function main(): Promise<void> {
  const config = loadControlPlaneConfig();
  const app = await createControlPlaneApp(config);
  const port = await listenOn(app, config.port, config.host);
  const logger = app.get(Logger);
  logger.log(`control plane listening on ${config.host}:${port} (OpenAPI at /docs)`);
  if (config.adminTokenGenerated) {
    // Development only (production refuses to start without one): printed once, to stdout.
    console.log(
      `\nPLATFORM_ADMIN_TOKEN was not set; this process accepts:\n  ${config.adminToken.reveal()}\n`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
