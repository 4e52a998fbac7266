export type { ErrorBody, FieldProblem } from './error-body';
export {
  applyFastifyHttpDefaults,
  applyHttpDefaults,
  fastifyServerOptions,
  listenOn,
  type HttpDefaults,
} from './http-app.util';
export { BodyRejectedException } from './fastify-json-body';
export {
  answerJson,
  nodeRequestOf,
  nodeResponseOf,
  type AnyResponse,
  type NextFunction,
  type NodeMiddleware,
} from './node-response';
export { jsonBodyParser } from './json-body.middleware';
export { Trim } from './trim.transform';
export { TenantPassword } from './tenant-password.rules';
export { IntegerParam } from './integer-param.transform';
export { requireJsonBodies, type RawBodyRoute } from './json-only.middleware';
export { strictValidationPipe } from './validation.pipe';
export { IsIsoDateTime } from './iso-date-time.validator';
export { httpErrorBody } from './http-error-body';
export { PUBLIC_ROUTE, PublicRoute } from './public-route.decorator';
export { rejectUnstorableText } from './unstorable-text.middleware';
export { sendNonDomainError } from './non-domain-error';
export { NoRequestTimeout, RequestTimeoutException, RequestTimeoutGuard } from './request-timeout';
export {
  API_CONTENT_SECURITY_POLICY,
  SWAGGER_UI_CONTENT_SECURITY_POLICY,
  securityHeaders,
} from './security-headers.middleware';
export { applyServerTimeouts } from './server-timeouts';
export { answerUnmetExpectations, HTTP_SERVER_OPTIONS } from './protocol-refusals';
export { strictCorsOptions } from './strict-cors.options';
export { addRouteHooks, type RouteHooks } from './route-hooks';
