import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { LIMIT_NAMES } from '@platform/tenancy';
import { CurrentOperator } from '../auth/current-operator.decorator';
import { Roles } from '../auth/roles.decorator';
import { LimitOverridesPipe, type LimitOverridesPatch } from './limit-overrides.pipe';
import { TenantLimits, type TenantLimitsView } from './tenant-limits.service';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantLimitsController {
  constructor(private readonly limits: TenantLimits) {}

  /** The plan's limits, the tenant's overrides and the effective values. */
  @Get(':idOrSlug/limits')
  @Roles('viewer')
  get(@Param('idOrSlug') idOrSlug: string): Promise<TenantLimitsView> {
    return this.limits.get(idOrSlug);
  }

  /** Sets or (with null) removes overrides; limits not named keep their current value. */
  @Put(':idOrSlug/limits')
  @Roles('ops')
  @ApiBody({
    description: `Any of ${LIMIT_NAMES.join(', ')}: a non-negative integer, or null for the plan's value`,
    schema: { type: 'object', example: { requestsPerMinute: 6000, maxUsers: null } },
  })
  @ApiBadRequestResponse({ description: 'validation_failed, naming each wrong field' })
  update(
    @Param('idOrSlug') idOrSlug: string,
    @Body(LimitOverridesPipe) patch: LimitOverridesPatch,
    @CurrentOperator() operator: string,
  ): Promise<TenantLimitsView> {
    return this.limits.update(idOrSlug, patch, operator);
  }
}
