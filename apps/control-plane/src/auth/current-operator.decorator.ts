import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { OperatorRequest, Principal } from './principal';

function principalOf(context: ExecutionContext): Principal {
  const principal = context.switchToHttp().getRequest<OperatorRequest>().principal;
  if (!principal) throw new Error('CurrentOperator/CurrentPrincipal used on a public route');
  return principal;
}

/** The caller as the audit log names it: `operator:<email>`, `api-key:<prefix>`, `bootstrap-admin`. */
export const CurrentOperator = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  return principalOf(context).actor;
});

/** The whole caller: operator id, role, how it signed in (see Principal). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => principalOf(context),
);
