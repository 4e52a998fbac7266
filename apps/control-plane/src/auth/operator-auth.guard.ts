import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { PUBLIC_ROUTE } from '@platform/http';
import { ApiKeys } from '../operators/api-keys.service';
import { OperatorSessions } from '../operators/operator-sessions.service';
import { looksLikeApiKey, sameSecret } from '../operators/operator-secrets';
import { roleAllows, type OperatorRole } from '../operators/operator-role';
import type { OperatorRow } from '../operators/operator.view';
import { BOOTSTRAP_ACTOR, type OperatorRequest, type Principal } from './principal';
import { REQUIRED_ROLES } from './roles.decorator';
import { readCookie, secureCookies, sessionCookieName } from './session-cookie';

/** Routes that declare no role are for admins only: a forgotten `@Roles` fails closed. */
const UNDECLARED: readonly OperatorRole[] = ['admin'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

/**
 * The one guard in front of every control-plane route (health and sign-in excepted): it finds
 * out who is calling, then checks the route's role.
 *
 * Credentials, in this order:
 * - `Authorization: Bearer tpk_...`: an API key (automation).
 * - `Authorization: Bearer <PLATFORM_ADMIN_TOKEN>`: the bootstrap token, acting as `admin`,
 *   unless BOOTSTRAP_TOKEN_ENABLED=false.
 * - the session cookie (the console). An Authorization header, if present, wins and is never
 *   "helped" by a cookie: a wrong bearer is a 401 even with a valid session.
 *
 * CSRF: a browser attaches the cookie by itself, so a cookie-authenticated request that can
 * change something (anything but GET/HEAD/OPTIONS) must also carry the session's CSRF token in
 * `X-CSRF-Token` (given at sign-in and by GET /v1/auth/me). Another site can make the browser
 * send the cookie (SameSite=Strict already stops most of that) but cannot read the token.
 * Bearer credentials are never attached by browsers, so they need no CSRF token.
 *
 * Refusals: 401 `unauthenticated` (no or bad credential), 403 `csrf_token_invalid`, 403
 * `forbidden` naming the role the route needs.
 */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
    private readonly sessions: OperatorSessions,
    private readonly apiKeys: ApiKeys,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<OperatorRequest>();
    const principal = await this.authenticate(request);
    if (!principal) {
      throw new UnauthorizedException({
        error: 'unauthenticated',
        message: 'Sign in (POST /v1/auth/login) or send an API key as Authorization: Bearer <key>',
        details: [],
      });
    }
    request.principal = principal;
    request.operator = { id: principal.operatorId ?? principal.actor };

    if (principal.kind === 'session' && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, principal.csrfToken ?? '')) {
        throw new ForbiddenException({
          error: 'csrf_token_invalid',
          message: 'Send the CSRF token from sign-in (or GET /v1/auth/me) as X-CSRF-Token',
          details: [],
        });
      }
    }

    const needed =
      this.reflector.getAllAndOverride<OperatorRole[] | undefined>(REQUIRED_ROLES, targets) ??
      UNDECLARED;
    if (!roleAllows(principal.role, needed)) {
      throw new ForbiddenException({
        error: 'forbidden',
        message: `This needs the ${needed.join(' or ')} role (or admin); you are ${principal.role}`,
        details: [],
      });
    }
    return true;
  }

  private async authenticate(request: OperatorRequest): Promise<Principal | null> {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      // The scheme is case-insensitive (RFC 9110, 11.1); the credentials are not.
      const bearer = /^Bearer (.+)$/i.exec(authorization)?.[1];
      if (!bearer) return null;
      const key = looksLikeApiKey(bearer) ? await this.apiKeys.resolve(bearer) : null;
      if (key) {
        return operatorPrincipal('api-key', key.operator, `api-key:${key.prefix}`, {
          apiKeyId: key.id,
        });
      }
      if (
        this.config.operators.bootstrapTokenEnabled &&
        sameSecret(bearer, this.config.adminToken.reveal())
      ) {
        return BOOTSTRAP_PRINCIPAL;
      }
      return null;
    }
    const secure = secureCookies(request, this.config.nodeEnv);
    const token = readCookie(request, sessionCookieName(secure));
    if (!token) return null;
    const session = await this.sessions.resolve(token);
    return (
      session &&
      operatorPrincipal('session', session.operator, `operator:${session.operator.email}`, {
        sessionId: session.id,
        csrfToken: session.csrfToken,
        sessionExpiresAt: session.expiresAt,
      })
    );
  }
}

const BOOTSTRAP_PRINCIPAL: Principal = {
  kind: 'bootstrap',
  actor: BOOTSTRAP_ACTOR,
  role: 'admin',
  operatorId: null,
  email: null,
  sessionId: null,
  apiKeyId: null,
  csrfToken: null,
  sessionExpiresAt: null,
};

function operatorPrincipal(
  kind: 'session' | 'api-key',
  operator: OperatorRow,
  actor: string,
  extra: Partial<Pick<Principal, 'sessionId' | 'apiKeyId' | 'csrfToken' | 'sessionExpiresAt'>>,
): Principal {
  return {
    ...BOOTSTRAP_PRINCIPAL,
    kind,
    actor,
    role: operator.role,
    operatorId: operator.id,
    email: operator.email,
    ...extra,
  };
}
