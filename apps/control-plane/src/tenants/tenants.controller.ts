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
  Sse,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiHeader,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentOperator } from '../auth/current-operator.decorator';
import { Roles } from '../auth/roles.decorator';
import { CreateTenantUserDto } from './dto/create-tenant-user.dto';
import { CreateTenantDto } from './dto/create-tenant.dto';
import { ListTenantsQuery } from './dto/list-tenants.query';
import { parseIdempotencyKey } from './idempotency-key';
import { TenantRegistry, type Page } from './tenant-registry.service';
import { TenantExistsGuard } from './tenant-exists.guard';
import { TenantProgress } from './tenant-progress.service';
import {
  TenantUsersService,
  type CreatedTenantUser,
  type TenantUserView,
} from './tenant-users.service';
import { WelcomeMailService, type MailView, type QueuedMail } from './welcome-mail.service';
import type { TenantView } from './tenant.view';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly users: TenantUsersService,
    private readonly progress: TenantProgress,
    private readonly welcomeMail: WelcomeMailService,
  ) {}

  @Post()
  @Roles('ops')
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
  @Roles('viewer')
  list(@Query() query: ListTenantsQuery): Promise<Page<TenantView>> {
    return this.registry.list(query);
  }

  @Get(':idOrSlug')
  @Roles('viewer')
  get(@Param('idOrSlug') idOrSlug: string): Promise<TenantView> {
    return this.registry.get(idOrSlug);
  }

  /** Server-sent events: the tenant with its steps on every change, until it settles. */
  @Sse(':idOrSlug/progress')
  @Roles('viewer')
  @UseGuards(TenantExistsGuard)
  follow(@Param('idOrSlug') idOrSlug: string): Promise<Observable<MessageEvent>> {
    return this.progress.follow(idOrSlug);
  }

  @Get(':idOrSlug/users')
  @Roles('viewer')
  listUsers(@Param('idOrSlug') idOrSlug: string): Promise<TenantUserView[]> {
    return this.users.list(idOrSlug);
  }

  @Get(':idOrSlug/mail')
  @Roles('viewer')
  mail(@Param('idOrSlug') idOrSlug: string): Promise<MailView[]> {
    return this.welcomeMail.list(idOrSlug);
  }

  /** Sends the admin a new welcome mail with a fresh invite (older unused links stop working). */
  @Post(':id/welcome-mail')
  @Roles('ops')
  @HttpCode(202)
  resendWelcomeMail(
    @Param('id') id: string,
    @CurrentOperator() operator: string,
  ): Promise<QueuedMail> {
    return this.welcomeMail.resend(id, operator);
  }

  @Post(':id/suspend')
  @Roles('ops')
  @HttpCode(200)
  suspend(@Param('id') id: string, @CurrentOperator() operator: string): Promise<TenantView> {
    return this.registry.transition(id, 'suspend', operator);
  }

  @Post(':id/resume')
  @Roles('ops')
  @HttpCode(200)
  resume(@Param('id') id: string, @CurrentOperator() operator: string): Promise<TenantView> {
    return this.registry.transition(id, 'resume', operator);
  }

  @Post(':id/retry')
  @Roles('ops')
  @HttpCode(202)
  retry(@Param('id') id: string, @CurrentOperator() operator: string): Promise<TenantView> {
    return this.registry.transition(id, 'retry', operator);
  }

  /** Soft delete: the tenant stops being served and its hostnames are freed; its schema stays. */
  @Delete(':id')
  @Roles('ops')
  @HttpCode(200)
  remove(@Param('id') id: string, @CurrentOperator() operator: string): Promise<TenantView> {
    return this.registry.transition(id, 'delete', operator);
  }

  @Post(':id/users')
  @Roles('ops')
  @HttpCode(201)
  createUser(
    @Param('id') id: string,
    @Body() body: CreateTenantUserDto,
    @CurrentOperator() operator: string,
  ): Promise<CreatedTenantUser> {
    return this.users.create(id, body, operator);
  }
}
