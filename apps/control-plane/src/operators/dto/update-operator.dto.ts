import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { OPERATOR_ROLES, type OperatorRole } from '../operator-role';

export class UpdateOperatorDto {
  @ApiPropertyOptional({ enum: OPERATOR_ROLES })
  @IsOptional()
  @IsIn(OPERATOR_ROLES, { message: `role must be one of ${OPERATOR_ROLES.join(', ')}` })
  role?: OperatorRole;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'true ends the operator’s sessions and stops its API keys' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}
