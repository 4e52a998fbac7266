import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { Trim } from '@platform/http';
import { OPERATOR_ROLES, type OperatorRole } from '../operator-role';

/**
 * A field left out is left as it is; a field sent must be a value. `@IsOptional()` would let
 * `null` through as well, which the update read as "keep" while the last-admin check read it
 * as a demotion (`{"role": null}` answered 409 last_admin).
 */
const IfPresent = (): PropertyDecorator =>
  ValidateIf((_dto: object, value: unknown) => value !== undefined);

export class UpdateOperatorDto {
  @ApiPropertyOptional({ enum: OPERATOR_ROLES })
  @IfPresent()
  @IsIn(OPERATOR_ROLES, { message: `role must be one of ${OPERATOR_ROLES.join(', ')}` })
  role?: OperatorRole;

  @ApiPropertyOptional()
  @IfPresent()
  @Trim()
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'true ends the operator’s sessions and stops its API keys' })
  @IfPresent()
  @IsBoolean()
  disabled?: boolean;
}
