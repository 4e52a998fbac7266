export type { ErrorBody, FieldProblem } from './error-body';
export { applyHttpDefaults, listenOn } from './http-app.util';
export { jsonBodyParser } from './json-body.middleware';
export { strictValidationPipe } from './validation.pipe';
export { httpErrorBody } from './http-error-body';
export { PUBLIC_ROUTE, PublicRoute } from './public-route.decorator';
export { rejectNulCharacters } from './nul-character.middleware';
export { sendNonDomainError } from './non-domain-error';
