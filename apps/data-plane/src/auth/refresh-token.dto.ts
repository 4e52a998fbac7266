import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { OPAQUE_TOKEN } from './token-pair';

export class RefreshTokenDto {
  @ApiProperty({ description: 'The refresh token from the last sign-in or refresh' })
  @IsString()
  @Matches(OPAQUE_TOKEN, { message: 'refreshToken must be the 43-character refresh token' })
  refreshToken!: string;
}
