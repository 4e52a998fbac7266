import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { TenantContext } from '@platform/tenancy';
import type { TenantUser } from './tenant-user';

const ISSUER = 'tenancy-data-plane';
const ALGORITHM = 'HS256';

interface AccessTokenClaims {
  sub: string;
  role: TenantUser['role'];
}

/**
 * Access tokens are bound to the tenant that issued them: the audience is the tenant id, and
 * verification demands the audience of the tenant the request is for. A token from tenant A's
 * host therefore fails on tenant B's host, even though both share the signing key.
 */
@Injectable()
export class AccessTokenService {
  private readonly jwt: JwtService;

  constructor(@Inject(DATA_PLANE_CONFIG) private readonly config: DataPlaneConfig) {
    this.jwt = new JwtService({ secret: config.jwt.secret.reveal() });
  }

  issue(user: TenantUser): Promise<string> {
    const claims: AccessTokenClaims = { sub: user.id, role: user.role };
    return this.jwt.signAsync(claims, {
      algorithm: ALGORITHM,
      audience: TenantContext.current().id,
      issuer: ISSUER,
      expiresIn: this.config.jwt.ttlSeconds,
    });
  }

  /** The user, or null for any token that is forged, expired or issued for another tenant. */
  async verify(token: string): Promise<TenantUser | null> {
    try {
      const claims = await this.jwt.verifyAsync<AccessTokenClaims>(token, {
        algorithms: [ALGORITHM],
        audience: TenantContext.current().id,
        issuer: ISSUER,
      });
      if (typeof claims.sub !== 'string' || !['admin', 'member', 'viewer'].includes(claims.role)) {
        return null;
      }
      return { id: claims.sub, role: claims.role };
    } catch {
      return null;
    }
  }
}
