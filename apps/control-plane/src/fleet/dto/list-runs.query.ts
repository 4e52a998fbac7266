import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IntegerParam } from '@platform/http';
import { POSTGRES_INTEGER_MAX } from './create-migration-run.dto';
import { RUN_TENANT_STATUSES, type RunTenantStatus } from '../migration-run.types';

export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @IntegerParam()
  @IsInt()
  @Min(1)
  @Max(500)
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

export class RunTenantsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: RUN_TENANT_STATUSES })
  @IsOptional()
  @IsIn(RUN_TENANT_STATUSES, { message: `status must be one of ${RUN_TENANT_STATUSES.join(', ')}` })
  status?: RunTenantStatus;
}

export class PlanQuery {
  @ApiPropertyOptional({ description: 'Target template version (default: the latest)' })
  @IsOptional()
  @IntegerParam()
  @IsInt()
  @Min(0)
  @Max(POSTGRES_INTEGER_MAX)
  to?: number;
}
