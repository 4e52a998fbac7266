import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentOperator } from '../auth/current-operator.decorator';
import { Roles } from '../auth/roles.decorator';
import type { SigningKeyView } from './signing-key.store';
import { SigningKeysService, type RotatedKeys } from './signing-keys.service';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class SigningKeysController {
  constructor(private readonly keys: SigningKeysService) {}

  /** The tenant's access-token signing keys, newest first: ids and lifetimes, never secrets. */
  @Get(':idOrSlug/keys')
  @Roles('viewer')
  list(@Param('idOrSlug') idOrSlug: string): Promise<SigningKeyView[]> {
    return this.keys.list(idOrSlug);
  }

  /**
   * A new signing key; the previous one keeps verifying for SIGNING_KEY_ROTATION_OVERLAP_SECONDS,
   * older ones stop at once.
   */
  @Post(':idOrSlug/keys/rotate')
  @Roles('ops')
  @HttpCode(200)
  @ApiOkResponse({ description: '{ currentKid, keys }' })
  rotate(
    @Param('idOrSlug') idOrSlug: string,
    @CurrentOperator() operator: string,
  ): Promise<RotatedKeys> {
    return this.keys.rotate(idOrSlug, operator);
  }
}
