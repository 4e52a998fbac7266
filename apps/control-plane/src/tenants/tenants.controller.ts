import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiHeader,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentOperator } from '../auth/current-operator.decorator';
import { CreateTenantUserDto } from './dto/create-tenant-user.dto';
import { CreateTenantDto } from './dto/create-tenant.dto';
import { ListTenantsQuery } from './dto/list-tenants.query';
import { parseIdempotencyKey } from './idempotency-key';
import { TenantRegistry, type Page } from './tenant-registry.service';
import { TenantUsersService, type CreatedTenantUser } from './tenant-users.service';
import type { TenantView } from './tenant.view';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly users: TenantUsersService,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat-safe creation' })
  @ApiAcceptedResponse({ description: 'Tenant recorded; provisioning runs in the background' })
  @ApiConflictResponse({ description: 'slug_taken or hostname_taken' })
  create(
    @Body() body: CreateTenantDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentOperator() operator: string,
  ): Promise<TenantView> {
    return this.registry.create(body, operator, parseIdempotencyKey(idempotencyKey));
  }

  @Get()
  list(@Query() query: ListTenantsQuery): Promise<Page<TenantView>> {
    return this.registry.list(query);
  }

  @Get(':idOrSlug')
  get(@Param('idOrSlug') idOrSlug: string): Promise<TenantView> {
    return this.registry.get(idOrSlug);
  }

  @Post(':id/suspend')
  @HttpCode(200)
  suspend(@Param('id') id: string, @CurrentOperator() operator: string): Promise<TenantView> {
    return this.registry.transition(id, 'suspend', operator);
  }

  @Post(':id/resume')
  @HttpCode(200)
  resume(@Param('id') id: string, @CurrentOperator() operator: string): Promise<TenantView> {
    return this.registry.transition(id, 'resume', operator);
  }

  @Post(':id/retry')
  @HttpCode(202)
  retry(@Param('id') id: string, @CurrentOperator() operator: string): Promise<TenantView> {
    return this.registry.transition(id, 'retry', operator);
  }

  /** Soft delete: the tenant stops being served and its hostnames are freed; its schema stays. */
  @Delete(':id')
  @HttpCode(200)
  remove(@Param('id') id: string, @CurrentOperator() operator: string): Promise<TenantView> {
    return this.registry.transition(id, 'delete', operator);
  }

  @Post(':id/users')
  @HttpCode(201)
  createUser(
    @Param('id') id: string,
    @Body() body: CreateTenantUserDto,
    @CurrentOperator() operator: string,
  ): Promise<CreatedTenantUser> {
    return this.users.create(id, body, operator);
  }
}
