import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-operator.decorator';
import type { Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { ApiKeys, type ApiKeyView, type CreatedApiKey } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';

/** Every operator manages its own keys; admins see and revoke all of them. */
@ApiTags('api keys')
@ApiBearerAuth()
@Roles('viewer')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeys) {}

  @Get()
  list(@CurrentPrincipal() principal: Principal): Promise<ApiKeyView[]> {
    return this.keys.list(principal);
  }

  /** `201` with `key`, shown this once (only its digest is stored). Needs a cookie session. */
  @Post()
  @HttpCode(201)
  create(
    @Body() body: CreateApiKeyDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CreatedApiKey> {
    return this.keys.create(principal, body.name, body.expiresAt ? new Date(body.expiresAt) : null);
  }

  /** Revokes at once (idempotent); `404` for other operators' keys unless admin. */
  @Delete(':id')
  @HttpCode(200)
  revoke(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<ApiKeyView> {
    return this.keys.revoke(principal, id);
  }
}
