import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AcceptInviteDto } from './accept-invite.dto';
import { InviteAcceptanceService } from './invite-acceptance.service';
import { LoginDto } from './login.dto';
import { PasswordLoginService } from './password-login.service';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly logins: PasswordLoginService,
    private readonly invites: InviteAcceptanceService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ description: '{ accessToken } bound to this tenant' })
  @ApiUnauthorizedResponse({ description: 'invalid_credentials' })
  login(@Body() body: LoginDto): Promise<{ accessToken: string }> {
    return this.logins.login(body.email, body.password);
  }

  /** The welcome page's form: spends a one-time invite, sets the password, signs the user in. */
  @Post('accept-invite')
  @HttpCode(200)
  @ApiOkResponse({ description: '{ accessToken } bound to this tenant' })
  acceptInvite(@Body() body: AcceptInviteDto): Promise<{ accessToken: string }> {
    return this.invites.accept(body.token, body.password);
  }
}
