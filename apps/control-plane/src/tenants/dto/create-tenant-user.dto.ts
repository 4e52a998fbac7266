import { TenantPassword } from '@platform/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, MaxLength } from 'class-validator';

export const TENANT_USER_ROLES = ['admin', 'member', 'viewer'] as const;
export type TenantUserRole = (typeof TENANT_USER_ROLES)[number];

export class CreateTenantUserDto {
  @ApiProperty({ example: 'jane@acme.test' })
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ enum: TENANT_USER_ROLES })
  @IsIn(TENANT_USER_ROLES, { message: `role must be one of ${TENANT_USER_ROLES.join(', ')}` })
  role!: TenantUserRole;

  @ApiPropertyOptional({ description: 'Without one, the user gets a one-time invite link' })
  @IsOptional()
  @TenantPassword()
  password?: string;
}
