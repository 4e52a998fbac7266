export type { ErrorBody, FieldProblem } from './error-body';
export { applyHttpDefaults, listenOn } from './http-app.util';
export { jsonBodyParser } from './json-body.middleware';
export { strictValidationPipe } from './validation.pipe';
