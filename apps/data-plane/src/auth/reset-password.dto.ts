import { TenantPassword } from '@platform/http';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { OPAQUE_TOKEN } from './token-pair';

export class ResetPasswordDto {
  @ApiProperty({ description: 'The token from the password-reset link' })
  @IsString()
  @Matches(OPAQUE_TOKEN, { message: 'token must be the 43-character token of a reset link' })
  token!: string;

  @ApiProperty({ minLength: 12, maxLength: 1024 })
  @TenantPassword()
  password!: string;
}
