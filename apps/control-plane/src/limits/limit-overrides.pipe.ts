import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import type { ErrorBody, FieldProblem } from '@platform/http';
import { LIMIT_NAMES, type LimitName } from '@platform/tenancy';

/** What a `PUT .../limits` body asks for: a value sets an override, `null` removes it. */
export type LimitOverridesPatch = Partial<Record<LimitName, number | null>>;

function isLimitName(name: string): name is LimitName {
  return (LIMIT_NAMES as readonly string[]).includes(name);
}

/**
 * Checks a limits body, naming every field that is wrong; `null` when it is right. Only the
 * limits the platform knows, each a non-negative integer (0 blocks: no requests, no new users)
 * small enough to stay exact in JSON and JavaScript.
 */
export function limitOverridesProblems(body: unknown): FieldProblem[] | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [
      {
        field: '(body)',
        rule: 'object',
        message: `the body must be a JSON object of limits (${LIMIT_NAMES.join(', ')})`,
      },
    ];
  }
  const problems: FieldProblem[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (!isLimitName(field)) {
      problems.push({
        field,
        rule: 'unknown-limit',
        message: `${field} is not a limit (known: ${LIMIT_NAMES.join(', ')})`,
      });
    } else if (value !== null && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
      problems.push({
        field,
        rule: 'non-negative-integer',
        message: `${field} must be a non-negative integer, or null to use the plan's value`,
      });
    }
  }
  if (problems.length === 0 && Object.keys(body).length === 0) {
    problems.push({
      field: '(body)',
      rule: 'not-empty',
      message: `name at least one limit (${LIMIT_NAMES.join(', ')})`,
    });
  }
  return problems.length > 0 ? problems : null;
}

/**
 * The limits body is a map keyed by limit name, which a class-validator DTO cannot express
 * without listing every name twice; this pipe answers in the same 400 shape as the DTOs do.
 */
@Injectable()
export class LimitOverridesPipe implements PipeTransform<unknown, LimitOverridesPatch> {
  transform(body: unknown): LimitOverridesPatch {
    const problems = limitOverridesProblems(body);
    if (problems) {
      const error: ErrorBody = {
        error: 'validation_failed',
        message: problems.map((problem) => problem.message).join('; '),
        details: problems,
      };
      throw new BadRequestException(error);
    }
    return body as LimitOverridesPatch;
  }
}
