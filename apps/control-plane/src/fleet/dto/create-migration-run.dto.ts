import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

/** The columns these land in are PostgreSQL `integer`s: a larger number failed there, a 500. */
export const POSTGRES_INTEGER_MAX = 2_147_483_647;

export class CreateMigrationRunDto {
  @ApiPropertyOptional({ description: 'Template version to reach (default: the latest)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(POSTGRES_INTEGER_MAX)
  targetVersion?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 64, default: 4 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  concurrency?: number;

  @ApiPropertyOptional({
    description: 'Stop once more than this many tenants failed (default: never)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(POSTGRES_INTEGER_MAX)
  maxFailures?: number;

  @ApiPropertyOptional({ description: 'Migrate this many tenants first, alone; stop if any fails' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  canaryCount?: number;

  @ApiPropertyOptional({ description: 'Canary tenants by id or slug (instead of canaryCount)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  canaryTenants?: string[];
}
