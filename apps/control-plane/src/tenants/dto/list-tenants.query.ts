import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IntegerParam } from '@platform/http';
import { TENANT_STATUSES, type TenantStatus } from '@platform/tenancy';

export class ListTenantsQuery {
  @ApiPropertyOptional({ enum: TENANT_STATUSES })
  @IsOptional()
  @IsIn(TENANT_STATUSES, { message: `status must be one of ${TENANT_STATUSES.join(', ')}` })
  status?: TenantStatus;

  @ApiPropertyOptional({ description: 'Matches slug, name or admin e-mail (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @IntegerParam()
  @IsInt()
  @Min(1)
  @Max(200)
  limit: number = 50;

  @ApiPropertyOptional({ minimum: 0, maximum: 1_000_000, default: 0 })
  @IsOptional()
  @IntegerParam()
  @IsInt()
  @Min(0)
  // PostgreSQL's OFFSET is a bigint: a larger integer failed in the driver (a 500).
  @Max(1_000_000)
  offset: number = 0;
}
