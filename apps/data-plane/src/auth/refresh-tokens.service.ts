import { Inject, Injectable, Logger } from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { TenantTransactionRunner, type TenantTransaction } from '@platform/database';
import { TenantContext } from '@platform/tenancy';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { AccessTokenService } from './access-token.service';
import { hashOpaqueToken, newOpaqueToken, type TokenPair } from './token-pair';
import type { TenantUser } from './tenant-user';

interface PresentedToken {
  id: string;
  family_id: string;
  used: boolean;
  revoked: boolean;
  expired: boolean;
  user_id: string;
  role: TenantUser['role'];
}

type Exchange =
  | { kind: 'rotated'; user: TenantUser }
  | { kind: 'reused'; userId: string; familyId: string }
  | { kind: 'invalid' };

/**
 * Refresh tokens: opaque, stored as SHA-256 in the tenant's schema, single-use. Each sign-in
 * starts a family; each refresh spends the presented token and issues its successor in the same
 * family. A spent token presented again means someone else holds a copy (the thief or the
 * victim, we cannot tell), so the whole family is revoked and both must sign in again.
 */
@Injectable()
export class RefreshTokens {
  private readonly logger = new Logger(RefreshTokens.name);
  private readonly ttlMs: number;

  constructor(
    private readonly database: TenantTransactionRunner,
    private readonly accessTokens: AccessTokenService,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.ttlMs = config.refreshTokenTtlDays * 86_400_000;
  }

  /**
   * A new pair for a user who just proved who they are. Inside `tx` when given (the caller's
   * transaction, e.g. the invite being spent), else in its own one-statement transaction.
   */
  async signIn(user: TenantUser, tx?: TenantTransaction): Promise<TokenPair> {
    // Checked first: a pair whose access token cannot be signed must not be half-issued.
    await this.accessTokens.signingKey(TenantContext.current().id);
    const refreshToken = newOpaqueToken();
    const insert = `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
                    VALUES ($1, gen_random_uuid(), $2, $3)`;
    const params = [user.id, hashOpaqueToken(refreshToken), this.expiry()];
    if (tx) await tx.query(insert, params);
    else await this.database.query(insert, params);
    return this.pair(user, refreshToken);
  }

  async refresh(presented: string): Promise<TokenPair> {
    await this.accessTokens.signingKey(TenantContext.current().id);
    const successor = newOpaqueToken();
    const exchange = await this.database.run<Exchange>(async (tx) => {
      const [token] = await tx.query<PresentedToken>(
        `SELECT r.id, r.family_id, r.used_at IS NOT NULL AS used,
                r.revoked_at IS NOT NULL AS revoked, r.expires_at <= now() AS expired,
                u.id AS user_id, u.role
           FROM refresh_tokens r JOIN users u ON u.id = r.user_id
          WHERE r.token_hash = $1
          FOR UPDATE OF r`,
        [hashOpaqueToken(presented)],
      );
      if (!token || token.revoked || token.expired) return { kind: 'invalid' };
      if (token.used) {
        await tx.query(
          'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
          [token.family_id],
        );
        return { kind: 'reused', userId: token.user_id, familyId: token.family_id };
      }
      await tx.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [token.id]);
      await tx.query(
        `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
         VALUES ($1, $2, $3, $4)`,
        [token.user_id, token.family_id, hashOpaqueToken(successor), this.expiry()],
      );
      return { kind: 'rotated', user: { id: token.user_id, role: token.role } };
    });
    if (exchange.kind === 'reused') {
      this.logger.warn(
        { userId: exchange.userId, familyId: exchange.familyId },
        'a spent refresh token was presented again; its family is revoked',
      );
    }
    if (exchange.kind !== 'rotated') {
      throw new DataPlaneException(
        DataPlaneErrorCode.InvalidRefreshToken,
        'This refresh token is unknown, expired, revoked or already used; sign in again',
      );
    }
    return this.pair(exchange.user, successor);
  }

  /** Ends the session: the token's whole family. Unknown tokens end nothing and say nothing. */
  async logout(presented: string): Promise<void> {
    await this.database.query(
      `UPDATE refresh_tokens SET revoked_at = now()
        WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
          AND revoked_at IS NULL`,
      [hashOpaqueToken(presented)],
    );
  }

  private async pair(user: TenantUser, refreshToken: string): Promise<TokenPair> {
    return {
      accessToken: await this.accessTokens.issue(user),
      refreshToken,
      expiresIn: this.accessTokens.ttlSeconds,
    };
  }

  private expiry(): Date {
    return new Date(Date.now() + this.ttlMs);
  }
}
