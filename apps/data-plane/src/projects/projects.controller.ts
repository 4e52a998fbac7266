import { Body, Controller, Get, Post, Query, UseGuards } from '@nestjs/common';
import { RouteSchema } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { PlanLimits } from '@platform/tenancy';
import { TenantAuthGuard } from '../auth/tenant-auth.guard';
import { CurrentUser, type TenantUser } from '../auth/tenant-user';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { CurrentLimits } from '../quotas/current-limits.decorator';
import { PageQuery } from '../common/page.query';
import { CreateProjectDto, PROJECT_LIST_RESPONSE_SCHEMA, type ProjectView } from './project.dto';
import { ProjectsRepository } from './projects.repository';

@ApiTags('projects')
@ApiBearerAuth()
@UseGuards(TenantAuthGuard)
@Controller('api/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsRepository) {}

  @Get()
  @RouteSchema({ response: PROJECT_LIST_RESPONSE_SCHEMA })
  async list(@Query() query: PageQuery): Promise<{ items: ProjectView[] }> {
    return { items: await this.projects.list(query.limit, query.offset) };
  }

  @Post()
  create(
    @Body() body: CreateProjectDto,
    @CurrentUser() user: TenantUser,
    @CurrentLimits() limits: PlanLimits,
  ): Promise<ProjectView> {
    if (user.role === 'viewer') {
      throw new DataPlaneException(DataPlaneErrorCode.Forbidden, 'Viewers cannot create projects');
    }
    return this.projects.create(body.name, body.description ?? '', user.id, limits.maxProjects);
  }
}
