import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { WELCOME_PAGE_HTML, WELCOME_PAGE_SCRIPT } from './welcome-page.assets';

/**
 * The page an invite link opens (`/welcome?token=...`): the user picks a password, the page's
 * script posts it with the token to /api/auth/accept-invite on the same host. The token never
 * leaves in a Referer header and the page cannot be framed or cached.
 */
@ApiExcludeController()
@Controller('welcome')
export class WelcomePageController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header(
    'Content-Security-Policy',
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  )
  @Header('Referrer-Policy', 'no-referrer')
  @Header('Cache-Control', 'no-store')
  @Header('X-Frame-Options', 'DENY')
  page(): string {
    return WELCOME_PAGE_HTML;
  }

  @Get('welcome.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): string {
    return WELCOME_PAGE_SCRIPT;
  }
}
