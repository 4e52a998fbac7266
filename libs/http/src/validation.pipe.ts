import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { ErrorBody, FieldProblem } from './error-body';

function flatten(errors: readonly ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) => ({
      field,
      rule,
      message,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * DTO validation for both apps: unknown properties are refused (not silently dropped), and the
 * 400 names each field and the rule it broke, e.g. `{field: "slug", rule: "slug", message: ...}`.
 */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const details = flatten(errors).map((problem) =>
        problem.rule === 'whitelistValidation'
          ? { ...problem, rule: 'unknown-property', message: `${problem.field} is not allowed` }
          : problem,
      );
      const body: ErrorBody = {
        error: 'validation_failed',
        message: details.map((problem) => problem.message).join('; '),
        details,
      };
      return new BadRequestException(body);
    },
  });
}
