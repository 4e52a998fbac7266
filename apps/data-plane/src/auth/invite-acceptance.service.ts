import { Injectable } from '@nestjs/common';
import { hash } from 'argon2';
import { TenantTransactionRunner } from '@platform/database';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { RefreshTokens } from './refresh-tokens.service';
import { hashOpaqueToken, type TokenPair } from './token-pair';
import type { TenantUser } from './tenant-user';

interface InvitedUser {
  invite_id: string;
  user_id: string;
  role: TenantUser['role'];
}

/**
 * A user follows their one-time invite link and sets a password. The invite is looked up by
 * the token's hash inside the tenant's own schema (an invite of another tenant simply does not
 * exist here), locked, and spent in the same transaction that sets the password, so two
 * concurrent uses cannot both succeed.
 */
@Injectable()
export class InviteAcceptanceService {
  constructor(
    private readonly database: TenantTransactionRunner,
    private readonly tokens: RefreshTokens,
  ) {}

  async accept(token: string, password: string): Promise<TokenPair> {
    // Hashed before the transaction: argon2 is slow and must not hold a connection.
    const passwordHash = await hash(password);
    const tokenHash = hashOpaqueToken(token);
    const pair = await this.database.run(async (tx) => {
      const [invited] = await tx.query<InvitedUser>(
        `SELECT i.id AS invite_id, u.id AS user_id, u.role
           FROM user_invites i JOIN users u ON u.id = i.user_id
          WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > now()
          FOR UPDATE OF i`,
        [tokenHash],
      );
      if (!invited) return null;
      await tx.query('UPDATE user_invites SET used_at = now() WHERE id = $1', [invited.invite_id]);
      await tx.query('UPDATE users SET password_hash = $2 WHERE id = $1', [
        invited.user_id,
        passwordHash,
      ]);
      // The session starts in the same transaction that spends the invite.
      return this.tokens.signIn({ id: invited.user_id, role: invited.role }, tx);
    });
    if (!pair) {
      throw new DataPlaneException(
        DataPlaneErrorCode.InvalidInvite,
        'This invite link is unknown, already used or expired; ask for a new one',
      );
    }
    return pair;
  }
}
