// One server of the framework-floor spike (see run.js): `node server.js <variant>` on PORT.
// Plain JavaScript with Nest's decorators applied by hand, so that it needs no build and no
// TypeScript setup of its own; the same code serves every variant but the raw one.
'use strict';
require('reflect-metadata');
const { createServer } = require('node:http');
const { randomUUID } = require('node:crypto');
const { Pool } = require('pg');

const variant = process.argv[2];
const pool = new Pool({ connectionString: process.env.FLOOR_DATABASE_URL, max: 10 });
const sql =
  'SELECT id, name, description, created_by AS "createdBy", created_at AS "createdAt" ' +
  `FROM "${process.env.FLOOR_SCHEMA}".projects ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`;

function rawServer() {
  return createServer((request, response) => {
    pool.query(sql, [20, 0]).then(
      (result) => {
        const body = JSON.stringify({ items: result.rows });
        response.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        });
        response.end(body);
      },
      () => response.writeHead(500).end(),
    );
  });
}

async function nestApp() {
  const { Controller, Get, Module, Query, ValidationPipe } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { IsInt, IsOptional, Max, Min } = require('class-validator');
  const { Type } = require('class-transformer');
  const withStack = variant.endsWith('-stack');

  // The data plane's PageQuery: optional integers, bounded, converted from the query string.
  class PageQuery {
    constructor() {
      this.limit = 20;
      this.offset = 0;
    }
  }
  for (const [property, max] of [
    ['limit', 100],
    ['offset', 1_000_000],
  ]) {
    for (const decorate of [IsOptional(), IsInt(), Min(0), Max(max), Type(() => Number)]) {
      decorate(PageQuery.prototype, property);
    }
  }
  class ProjectsController {
    async list(query) {
      const result = await pool.query(sql, [query.limit, query.offset]);
      return { items: result.rows };
    }
  }
  const list = Object.getOwnPropertyDescriptor(ProjectsController.prototype, 'list');
  Reflect.defineMetadata('design:paramtypes', [PageQuery], ProjectsController.prototype, 'list');
  Query()(ProjectsController.prototype, 'list', 0);
  Get()(ProjectsController.prototype, 'list', list);
  Controller('api/projects')(ProjectsController);

  const imports = [];
  if (withStack) {
    const { LoggerModule } = require('nestjs-pino');
    // libs/observability/src/logging.options.ts at a level that writes no request lines.
    imports.push(
      LoggerModule.forRoot({
        pinoHttp: {
          level: 'warn',
          genReqId: () => randomUUID(),
          mixin: (_line, _level, logger) => ({ requestId: logger.bindings().req?.id }),
          redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[x]' },
          autoLogging: false,
        },
      }),
    );
  }
  class AppModule {}
  Module({ imports, controllers: [ProjectsController] })(AppModule);

  let app;
  if (variant.startsWith('fastify')) {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['error'] });
  } else {
    app = await NestFactory.create(AppModule, { logger: ['error'], bodyParser: false });
    app.getHttpAdapter().getInstance().disable('x-powered-by');
  }
  if (withStack) applyStack(app, ValidationPipe);
  return app;
}

// What libs/http's applyHttpDefaults and the HTTP metrics middleware do on a GET, written once
// for both adapters: on Fastify, app.use() middleware gets Node's own request and response.
function applyStack(app, ValidationPipe) {
  const { Logger } = require('nestjs-pino');
  const helmet = require('helmet');
  const { Histogram } = require('prom-client');
  app.useLogger(app.get(Logger));
  const headers = helmet({
    contentSecurityPolicy: false,
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.use((request, response, next) =>
    headers(request, response, () => {
      response.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      next();
    }),
  );
  app.enableCors({ origin: false });
  app.use((request, response, next) => {
    const hasBody = request.method === 'POST' || request.method === 'PUT';
    const type = String(request.headers['content-type'] ?? '');
    if (hasBody && !type.startsWith('application/json')) {
      response.statusCode = 415;
      response.end();
      return;
    }
    next();
  });
  app.use((request, response, next) => {
    if ((request.url ?? '').includes('%00')) {
      response.statusCode = 400;
      response.end();
      return;
    }
    next();
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'],
  });
  app.use((request, response, next) => {
    const stop = duration.startTimer({ method: request.method });
    response.once('finish', () =>
      stop({ route: '/api/projects', status: `${response.statusCode}` }),
    );
    next();
  });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  // libs/http's RequestTimeoutGuard: a timer per request, cleared when the response ends.
  app.useGlobalGuards({
    canActivate(context) {
      const reply = context.switchToHttp().getResponse();
      const response = reply.raw ?? reply;
      const timer = setTimeout(() => undefined, 10_000);
      const clear = () => clearTimeout(timer);
      response.once('finish', clear);
      response.once('close', clear);
      return true;
    },
  });
}

async function main() {
  const port = Number(process.env.PORT);
  if (variant === 'raw') {
    await new Promise((resolve) => rawServer().listen(port, '127.0.0.1', resolve));
  } else {
    await (await nestApp()).listen(port, '127.0.0.1');
  }
  process.send?.('up');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
