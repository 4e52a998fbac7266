import { applyDecorators } from '@nestjs/common';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** The shortest password a tenant user may set. */
const TENANT_PASSWORD_MIN_LENGTH = 12;

/**
 * A tenant user's new password, wherever one is set (created by ops, invite accepted, reset):
 * 12 to 1,024 characters, not all of them blanks (twelve spaces passed the length rule and then
 * signed in).
 */
export function TenantPassword(field = 'password'): PropertyDecorator {
  // applyDecorators applies them in this order, the reverse of the same lines stacked on a field:
  // listed last-first, so that the validation pipe names the type rule first, as elsewhere.
  return applyDecorators(
    Matches(/\S/, { message: `${field} must not be only blanks` }),
    MaxLength(1024),
    MinLength(TENANT_PASSWORD_MIN_LENGTH, {
      message: `${field} must be at least ${TENANT_PASSWORD_MIN_LENGTH} characters`,
    }),
    IsString(),
  );
}
