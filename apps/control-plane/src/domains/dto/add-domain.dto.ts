import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

export class AddDomainDto {
  @ApiProperty({
    example: 'app.acme.com',
    description: 'A hostname the tenant owns (not the platform domain, an IP or a wildcard)',
  })
  @IsString({ message: 'hostname must be a string' })
  @MaxLength(253, { message: 'hostname must be at most 253 characters' })
  hostname!: string;
}
