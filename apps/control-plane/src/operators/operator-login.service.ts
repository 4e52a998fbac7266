import { Injectable } from '@nestjs/common';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { LoginThrottle } from './login-throttle.service';
import { hashPassword, verifyPassword } from './password-hashing';
import { OperatorAccounts, normalizeEmail } from './operator-accounts.service';
import { OperatorSessions, type StartedSession } from './operator-sessions.service';
import { toOperatorView, type OperatorView } from './operator.view';

export interface LoginClient {
  readonly ip: string;
  readonly userAgent: string | null;
}

export interface SignedIn {
  readonly operator: OperatorView;
  readonly session: StartedSession;
}

/**
 * E-mail and password sign-in. Every refusal says the same thing ("E-mail or password is
 * wrong") with the same status, whether the e-mail is unknown, the password wrong or the account
 * disabled, and takes about as long: an unknown e-mail is checked against a decoy hash, so the
 * argon2 work is done either way.
 */
@Injectable()
export class OperatorLogin {
  private decoyHash: Promise<string> | null = null;

  constructor(
    private readonly accounts: OperatorAccounts,
    private readonly sessions: OperatorSessions,
    private readonly throttle: LoginThrottle,
  ) {}

  async login(email: string, password: string, client: LoginClient): Promise<SignedIn> {
    const normalized = normalizeEmail(email);
    await this.throttle.attempt(normalized, client.ip);
    const operator = await this.accounts.findByEmail(normalized);
    const matches = await verifyPassword(operator?.password_hash ?? (await this.decoy()), password);
    if (!operator || !matches || operator.disabled_at !== null) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.InvalidCredentials,
        'E-mail or password is wrong',
      );
    }
    await this.throttle.succeeded(normalized, client.ip);
    const session = await this.sessions.start(operator.id, client);
    await this.accounts.recordLogin(operator.id);
    return { operator: toOperatorView({ ...operator, last_login_at: new Date() }), session };
  }

  private decoy(): Promise<string> {
    // Made on first use, not at start: the CLI never signs anyone in.
    this.decoyHash ??= hashPassword('decoy password that matches nothing');
    return this.decoyHash;
  }
}
