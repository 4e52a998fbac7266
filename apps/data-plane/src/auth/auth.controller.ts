import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { LoginDto } from './login.dto';
import { PasswordLoginService } from './password-login.service';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(private readonly logins: PasswordLoginService) {}

  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ description: '{ accessToken } bound to this tenant' })
  @ApiUnauthorizedResponse({ description: 'invalid_credentials' })
  login(@Body() body: LoginDto): Promise<{ accessToken: string }> {
    return this.logins.login(body.email, body.password);
  }
}
