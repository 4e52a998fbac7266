import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { OperatorRequest } from './bootstrap-token.guard';

/** The id of the operator the guard authenticated, for the audit log. */
export const CurrentOperator = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const operator = context.switchToHttp().getRequest<OperatorRequest>().operator;
  if (!operator) throw new Error('CurrentOperator used on a public route');
  return operator.id;
});
