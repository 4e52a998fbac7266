import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { PublicRoute } from '@platform/http';
import { clientAddress } from '../auth/client-address';
import { CurrentPrincipal } from '../auth/current-operator.decorator';
import type { Principal, PrincipalKind } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { clearSessionCookie, secureCookies, setSessionCookie } from '../auth/session-cookie';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { OperatorAccounts } from './operator-accounts.service';
import { OperatorLogin } from './operator-login.service';
import { OperatorSessions } from './operator-sessions.service';
import type { OperatorRole } from './operator-role';
import type { OperatorView } from './operator.view';

export interface LoginResponse {
  operator: OperatorView;
  /** Send back as `X-CSRF-Token` on every POST, PATCH and DELETE made with the cookie. */
  csrfToken: string;
  expiresAt: Date;
}

export interface MeResponse {
  kind: PrincipalKind;
  actor: string;
  role: OperatorRole;
  /** null for the bootstrap token, which is no account. */
  operator: OperatorView | null;
  /** Cookie sessions only: the CSRF token, again (e.g. after a page reload). */
  csrfToken: string | null;
  sessionExpiresAt: Date | null;
}

@ApiTags('operator auth')
@ApiBearerAuth()
@Controller('v1/auth')
export class OperatorAuthController {
  constructor(
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
    private readonly login: OperatorLogin,
    private readonly sessions: OperatorSessions,
    private readonly accounts: OperatorAccounts,
  ) {}

  /**
   * Sets the session cookie and returns the CSRF token. Any refusal is `401 invalid_credentials`
   * "E-mail or password is wrong"; repeated failures are `429 too_many_attempts` + Retry-After.
   */
  @Post('login')
  @PublicRoute()
  @HttpCode(200)
  async signIn(
    @Body() body: LoginDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<LoginResponse> {
    const { operator, session } = await this.login.login(body.email, body.password, {
      ip: clientAddress(request),
      userAgent: request.headers['user-agent'] ?? null,
    });
    const secure = secureCookies(request, this.config.nodeEnv);
    setSessionCookie(response, secure, session.token, session.expiresAt);
    return { operator, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
  }

  /** Ends the cookie session (a no-op for bearer credentials) and clears the cookie. */
  @Post('logout')
  @Roles('viewer')
  @HttpCode(204)
  async signOut(
    @CurrentPrincipal() principal: Principal,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    if (principal.sessionId) await this.sessions.end(principal.sessionId);
    clearSessionCookie(response, secureCookies(request, this.config.nodeEnv));
  }

  @Get('me')
  @Roles('viewer')
  async me(@CurrentPrincipal() principal: Principal): Promise<MeResponse> {
    return {
      kind: principal.kind,
      actor: principal.actor,
      role: principal.role,
      operator: principal.operatorId ? await this.accounts.get(principal.operatorId) : null,
      csrfToken: principal.csrfToken,
      sessionExpiresAt: principal.sessionExpiresAt,
    };
  }

  /** Changes the caller's own password; its other sessions end. */
  @Post('password')
  @Roles('viewer')
  @HttpCode(204)
  async changePassword(
    @Body() body: ChangePasswordDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    if (!principal.operatorId) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.OperatorRequired,
        'the bootstrap token has no password to change',
      );
    }
    await this.accounts.changeOwnPassword(
      principal.operatorId,
      body.currentPassword,
      body.newPassword,
      principal.sessionId,
      principal.actor,
    );
  }
}
