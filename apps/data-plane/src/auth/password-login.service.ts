import { Injectable } from '@nestjs/common';
import { hash, verify } from 'argon2';
import { TenantTransactionRunner } from '@platform/database';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { RefreshTokens } from './refresh-tokens.service';
import type { TokenPair } from './token-pair';
import type { TenantUser } from './tenant-user';

interface UserRow {
  id: string;
  role: TenantUser['role'];
  password_hash: string | null;
}

@Injectable()
export class PasswordLoginService {
  /** Verified against when the e-mail is unknown, so timing does not reveal which users exist. */
  private readonly decoyHash = hash('decoy password that matches nothing');

  constructor(
    private readonly database: TenantTransactionRunner,
    private readonly tokens: RefreshTokens,
  ) {}

  async login(email: string, password: string): Promise<TokenPair> {
    // The connection is returned before the (slow, CPU-bound) hash check.
    const [user] = await this.database.query<UserRow>(
      'SELECT id, role, password_hash FROM users WHERE email = $1',
      [email.toLowerCase()],
      { readOnly: true },
    );
    const matches = await verify(user?.password_hash ?? (await this.decoyHash), password);
    if (!user?.password_hash || !matches) {
      throw new DataPlaneException(
        DataPlaneErrorCode.InvalidCredentials,
        'E-mail or password is wrong',
      );
    }
    return this.tokens.signIn({ id: user.id, role: user.role });
  }
}
