import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsIsoDateTime, Trim } from '@platform/http';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci deploys', description: 'What the key is for' })
  @Trim()
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({
    example: '2030-01-01T00:00:00Z',
    description: 'When the key stops working; never when omitted',
  })
  @IsOptional()
  @IsIsoDateTime({ message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: string;
}
