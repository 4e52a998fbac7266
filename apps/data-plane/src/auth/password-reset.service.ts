import { Injectable } from '@nestjs/common';
import { hash } from 'argon2';
import { TenantTransactionRunner } from '@platform/database';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { hashOpaqueToken } from './token-pair';

/**
 * A user follows a password-reset link (created by ops on the control plane) and picks a new
 * password. Like an invite, the token is looked up by its hash in this tenant's schema, locked,
 * spent and the password set in one transaction; the user's refresh tokens are revoked in the
 * same transaction, so whoever knew the old password loses their sessions too.
 */
@Injectable()
export class PasswordResetService {
  constructor(private readonly database: TenantTransactionRunner) {}

  async reset(token: string, password: string): Promise<void> {
    // Hashed before the transaction: argon2 is slow and must not hold a connection.
    const passwordHash = await hash(password);
    const done = await this.database.run(async (tx) => {
      const [reset] = await tx.query<{ id: string; user_id: string }>(
        `SELECT id, user_id FROM password_resets
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
          FOR UPDATE`,
        [hashOpaqueToken(token)],
      );
      if (!reset) return false;
      await tx.query('UPDATE password_resets SET used_at = now() WHERE id = $1', [reset.id]);
      await tx.query('UPDATE users SET password_hash = $2 WHERE id = $1', [
        reset.user_id,
        passwordHash,
      ]);
      await tx.query(
        'UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL',
        [reset.user_id],
      );
      return true;
    });
    if (!done) {
      throw new DataPlaneException(
        DataPlaneErrorCode.InvalidResetToken,
        'This password-reset link is unknown, already used or expired; ask for a new one',
      );
    }
  }
}
