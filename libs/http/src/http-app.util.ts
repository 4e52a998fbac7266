import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { jsonBodyParser } from './json-body.middleware';
import { rejectNulCharacters } from './nul-character.middleware';
import { strictValidationPipe } from './validation.pipe';

/** What both apps set on their HTTP server, in one place so they cannot drift apart. */
export function applyHttpDefaults(app: NestExpressApplication, bodyLimit: string): void {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // Forwarded headers are judged by the apps themselves against their trusted-proxy list.
  app.set('trust proxy', false);
  app.use(jsonBodyParser(bodyLimit));
  app.use(rejectNulCharacters());
  app.useGlobalPipes(strictValidationPipe());
  app.enableShutdownHooks();
}

export async function listenOn(app: INestApplication, port: number, host: string): Promise<number> {
  await app.listen(port, host);
  const server = app.getHttpServer() as Server;
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
