import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AcceptInviteDto } from './accept-invite.dto';
import { InviteAcceptanceService } from './invite-acceptance.service';
import { LoginDto } from './login.dto';
import { PasswordLoginService } from './password-login.service';
import { PasswordResetService } from './password-reset.service';
import { RefreshTokenDto } from './refresh-token.dto';
import { RefreshTokens } from './refresh-tokens.service';
import { ResetPasswordDto } from './reset-password.dto';
import type { TokenPair } from './token-pair';

const PAIR = '{ accessToken, refreshToken, expiresIn }: an access token bound to this tenant';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly logins: PasswordLoginService,
    private readonly invites: InviteAcceptanceService,
    private readonly refreshTokens: RefreshTokens,
    private readonly resets: PasswordResetService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ description: PAIR })
  @ApiUnauthorizedResponse({ description: 'invalid_credentials' })
  login(@Body() body: LoginDto): Promise<TokenPair> {
    return this.logins.login(body.email, body.password);
  }

  /** Spends the refresh token (single use) for a new pair; a spent one revokes its family. */
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ description: PAIR })
  @ApiUnauthorizedResponse({ description: 'invalid_refresh_token' })
  refresh(@Body() body: RefreshTokenDto): Promise<TokenPair> {
    return this.refreshTokens.refresh(body.refreshToken);
  }

  /** Revokes the session the refresh token belongs to. */
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse()
  async logout(@Body() body: RefreshTokenDto): Promise<void> {
    await this.refreshTokens.logout(body.refreshToken);
  }

  /** The welcome page's form: spends a one-time invite, sets the password, signs the user in. */
  @Post('accept-invite')
  @HttpCode(200)
  @ApiOkResponse({ description: PAIR })
  acceptInvite(@Body() body: AcceptInviteDto): Promise<TokenPair> {
    return this.invites.accept(body.token, body.password);
  }

  /** Spends a one-time reset link, sets the password and revokes the user's refresh tokens. */
  @Post('reset-password')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ description: 'invalid_reset_token' })
  async resetPassword(@Body() body: ResetPasswordDto): Promise<void> {
    await this.resets.reset(body.token, body.password);
  }
}
