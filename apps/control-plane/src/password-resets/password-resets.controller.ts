import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { CurrentOperator } from '../auth/current-operator.decorator';
import { Roles } from '../auth/roles.decorator';
import { PasswordResets, type IssuedPasswordReset } from './password-resets.service';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class PasswordResetsController {
  constructor(private readonly resets: PasswordResets) {}

  /** A one-time password-reset link for a tenant user: mailed, or returned when mail is off. */
  @Post(':idOrSlug/users/:userId/password-reset')
  @Roles('ops')
  @HttpCode(201)
  @ApiCreatedResponse({
    description:
      "{ userId, expiresAt, delivery: 'mail', outboxId } or { ..., delivery: 'link', url }",
  })
  issue(
    @Param('idOrSlug') idOrSlug: string,
    @Param('userId') userId: string,
    @CurrentOperator() operator: string,
  ): Promise<IssuedPasswordReset> {
    return this.resets.issue(idOrSlug, userId, operator);
  }
}
