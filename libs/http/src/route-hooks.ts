import type { FastifyInstance, preHandlerHookHandler, preParsingHookHandler } from 'fastify';

/** The route-level hooks added by `addRouteHooks`. */
export interface RouteHooks {
  readonly preParsing?: preParsingHookHandler;
  readonly preValidation?: preHandlerHookHandler;
  readonly preHandler?: preHandlerHookHandler;
}

/**
 * Adds `hooks` to the routes of the methods `wanted` accepts only, after any hooks they have. A
 * hook added with `fastify.addHook` runs on every request of every route: a GET paid each step
 * of hooks meant for uploads or for bodies (two per hook in a CPU profile of `npm run bench`).
 * Call it before the routes are registered (Nest registers them at init).
 */
export function addRouteHooks(
  fastify: FastifyInstance,
  wanted: (method: string) => boolean,
  hooks: RouteHooks,
): void {
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((method) => wanted(method))) return;
    if (hooks.preParsing) route.preParsing = [...listOf(route.preParsing), hooks.preParsing];
    if (hooks.preValidation) {
      route.preValidation = [...listOf(route.preValidation), hooks.preValidation];
    }
    if (hooks.preHandler) route.preHandler = [...listOf(route.preHandler), hooks.preHandler];
  });
}

function listOf<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}
