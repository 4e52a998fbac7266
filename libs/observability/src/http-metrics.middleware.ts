import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { MetricsRegistry } from './metrics.registry';

const ROUTE_LABEL = Symbol('platform.routeLabel');

/** Node's request as each adapter leaves it: Express marks its matched route on it. */
type LabelledRequest = IncomingMessage & {
  readonly route?: { readonly path?: string };
  readonly baseUrl?: string;
  [ROUTE_LABEL]?: string;
};

/** The matched route template, or a fixed label: raw paths would be unbounded. */
function routeLabelOf(request: LabelledRequest): string {
  if (request[ROUTE_LABEL] !== undefined) return request[ROUTE_LABEL];
  const path = request.route?.path;
  return path === undefined ? 'unmatched' : `${request.baseUrl ?? ''}${path}`;
}

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsRegistry) {}

  use(request: LabelledRequest, response: ServerResponse, next: () => void): void {
    const stop = this.metrics.httpDuration.startTimer({ method: request.method });
    response.once('finish', () => {
      stop({ route: routeLabelOf(request), status: String(response.statusCode) });
    });
    next();
  }
}

/**
 * Under Fastify, middleware gets Node's request, which knows nothing of the route; Fastify has
 * matched it before any middleware runs, so its template is copied onto Node's request for the
 * middleware above to label with. (Express marks it on the request itself.)
 */
@Injectable()
export class FastifyRouteLabels implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'fastify') return;
    adapter.getInstance<FastifyInstance>().addHook('onRequest', (request, _reply, done) => {
      const url = request.routeOptions.url;
      if (url !== undefined) (request.raw as LabelledRequest)[ROUTE_LABEL] = url;
      done();
    });
  }
}
