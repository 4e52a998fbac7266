import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { answerJson, type NodeMiddleware } from './node-response';

/**
 * Node's HTTP server options for a Fastify app: Node answers an HTTP/1.1 request without Host
 * with a bare 400 before any of our code runs; with this, `refuseMissingHost` answers it in our
 * JSON shape instead, naming the problem.
 */
export const HTTP_SERVER_OPTIONS: ServerOptions = { requireHostHeader: false };

/**
 * RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host header. An
 * empty Host is another matter (an unknown host, judged by the app); HTTP/1.0 may omit it.
 * A middleware, not a Fastify hook: it must run before the app's own middleware (the data
 * plane's tenant resolution would answer 404 first), and Fastify runs all middleware in one
 * hook registered before any of ours.
 */
export function refuseMissingHost(): NodeMiddleware {
  return (request, response, next) => {
    if (request.headers.host !== undefined || request.httpVersion !== '1.1') {
      next();
      return;
    }
    // As Node does: the client is not speaking our HTTP, so the connection does not go on.
    response.shouldKeepAlive = false;
    answerJson(response, 400, {
      error: 'missing_host',
      message: 'an HTTP/1.1 request must carry a Host header',
    });
  };
}

/**
 * Node answers an `Expect` other than `100-continue` with a bare 417 unless the server listens
 * for it; this gives that answer our JSON shape. The request's body is never read.
 */
export function answerUnmetExpectations(server: Server): void {
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    response.shouldKeepAlive = false;
    answerJson(response, 417, {
      error: 'expectation_failed',
      message: 'the Expect header may only ask for 100-continue',
    });
  });
}
