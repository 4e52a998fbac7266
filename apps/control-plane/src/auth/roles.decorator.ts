import { SetMetadata } from '@nestjs/common';
import type { OperatorRole } from '../operators/operator-role';

export const REQUIRED_ROLES = 'platform:required-roles';

/**
 * The operator roles a route needs (any one of them; `admin` always passes, `viewer` opens the
 * route to every signed-in operator). Every route carries one: the guard refuses a route that
 * has none to everyone but `admin`, and test/route-roles.e2e-spec.ts lists each route's role.
 */
export const Roles = (
  ...roles: [OperatorRole, ...OperatorRole[]]
): ClassDecorator & MethodDecorator => SetMetadata(REQUIRED_ROLES, roles);
