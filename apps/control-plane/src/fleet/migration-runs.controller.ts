import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { TenantSchemaMigrator } from '@platform/database';
import { CurrentOperator } from '../auth/current-operator.decorator';
import { Roles } from '../auth/roles.decorator';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { CreateMigrationRunDto } from './dto/create-migration-run.dto';
import { PageQuery, PlanQuery, RunTenantsQuery } from './dto/list-runs.query';
import { FleetPlanner, type FleetPlan, type FleetStatus } from './fleet-planner.service';
import { MigrationRunsService } from './migration-runs.service';
import type { MigrationRun, MigrationRunView } from './migration-run.types';

@ApiTags('fleet migrations')
@ApiBearerAuth()
@Controller('v1')
export class MigrationRunsController {
  constructor(
    private readonly runs: MigrationRunsService,
    private readonly planner: FleetPlanner,
    private readonly migrator: TenantSchemaMigrator,
  ) {}

  @Post('migration-runs')
  @Roles('sre')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'Run recorded; workers migrate the fleet in the background' })
  create(
    @Body() body: CreateMigrationRunDto,
    @CurrentOperator() operator: string,
  ): Promise<MigrationRunView> {
    return this.runs.create(body, operator);
  }

  @Get('migration-runs')
  @Roles('viewer')
  list(@Query() query: PageQuery): Promise<MigrationRun[]> {
    return this.runs.list(query.limit, query.offset);
  }

  @Get('migration-runs/:id')
  @Roles('viewer')
  get(@Param('id') id: string): Promise<MigrationRunView> {
    return this.runs.view(id);
  }

  @Get('migration-runs/:id/tenants')
  @Roles('viewer')
  tenants(@Param('id') id: string, @Query() query: RunTenantsQuery) {
    return this.runs.outcomes(id, query.status ?? null, query.limit, query.offset);
  }

  @Post('migration-runs/:id/pause')
  @Roles('sre')
  @HttpCode(200)
  pause(@Param('id') id: string): Promise<MigrationRunView> {
    return this.runs.pause(id);
  }

  @Post('migration-runs/:id/resume')
  @Roles('sre')
  @HttpCode(202)
  resume(@Param('id') id: string): Promise<MigrationRunView> {
    return this.runs.resume(id);
  }

  @Post('migration-runs/:id/cancel')
  @Roles('sre')
  @HttpCode(200)
  cancel(@Param('id') id: string): Promise<MigrationRunView> {
    return this.runs.cancel(id);
  }

  /** Dry run: what a run to `to` would apply to which tenants. Reads only. */
  @Get('fleet/plan')
  @Roles('viewer')
  plan(@Query() query: PlanQuery): Promise<FleetPlan> {
    const target = query.to ?? this.migrator.latestVersion;
    if (target > this.migrator.latestVersion) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidMigrationRun,
        `to ${target} does not exist (latest is ${this.migrator.latestVersion})`,
      );
    }
    return this.planner.plan(target);
  }

  @Get('fleet/status')
  @Roles('viewer')
  status(): Promise<FleetStatus> {
    return this.planner.status();
  }
}
