import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { IntegerParam, IsIsoDateTime } from '@platform/http';

/** Filters of a tenant's audit entries (GET /v1/tenants/:idOrSlug/audit). Newest first. */
export class TenantAuditQuery {
  @ApiPropertyOptional({
    description: 'An action, e.g. tenant.suspend, or a prefix ending in *, e.g. tenant.domain.*',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[a-z0-9][a-z0-9._-]*\*?$/, {
    message: 'action must be an action name (e.g. tenant.suspend) or a prefix ending in *',
  })
  action?: string;

  @ApiPropertyOptional({ description: 'The id of the operator who made the change' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  operator?: string;

  @ApiPropertyOptional({ description: 'Entries at or after this instant (ISO 8601)' })
  @IsOptional()
  @IsIsoDateTime({ message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'Entries before this instant (ISO 8601)' })
  @IsOptional()
  @IsIsoDateTime({ message: 'to must be an ISO 8601 date-time' })
  to?: string;

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

/** Filters of the whole audit trail (GET /v1/audit). Newest first. */
export class ListAuditQuery extends TenantAuditQuery {
  @ApiPropertyOptional({ description: 'A tenant id or slug' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  tenant?: string;
}
