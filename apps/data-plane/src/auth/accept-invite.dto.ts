import { TenantPassword } from '@platform/http';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export class AcceptInviteDto {
  @ApiProperty({ description: 'The token from the invite link' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{43}$/, {
    message: 'token must be the 43-character token of an invite link',
  })
  token!: string;

  @ApiProperty({ minLength: 12, maxLength: 1024 })
  @TenantPassword()
  password!: string;
}
