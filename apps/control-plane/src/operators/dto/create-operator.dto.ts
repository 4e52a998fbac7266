import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { OPERATOR_ROLES, type OperatorRole } from '../operator-role';
import { MAX_PASSWORD_LENGTH } from '../password-policy';

export class CreateOperatorDto {
  @ApiProperty({ example: 'jane@example.com' })
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(254)
  email!: string;

  @ApiPropertyOptional({ example: 'Jane Doe' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiProperty({ enum: OPERATOR_ROLES })
  @IsIn(OPERATOR_ROLES, { message: `role must be one of ${OPERATOR_ROLES.join(', ')}` })
  role!: OperatorRole;

  @ApiPropertyOptional({
    description:
      'At least 12 characters, not the e-mail, not a common password. Without one, a password is generated and returned once.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string;
}
