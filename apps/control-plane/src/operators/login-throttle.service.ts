import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { sha256Hex } from './operator-secrets';
import { OPERATORS_REDIS } from './operators.tokens';

/** Gives back one attempt, if the window still exists (never creates a key without a TTL). */
const GIVE_BACK = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0`;

/**
 * Bounds password guessing per account and per client address, in Redis so that every replica
 * counts together. Attempts are counted *before* the password is checked (a burst of parallel
 * guesses cannot all slip in under the limit while the first ones are still being hashed); a
 * successful sign-in clears its account's count and gives its attempt back to the address.
 * Fixed windows from the first attempt; an account is counted by the e-mail's digest, whether
 * or not it exists, so the answer never tells which e-mails are operators.
 */
@Injectable()
export class LoginThrottle implements OnApplicationShutdown {
  constructor(
    @Inject(OPERATORS_REDIS) private readonly redis: Redis,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  /** Counts one attempt; throws `too_many_attempts` (429, Retry-After) past either limit. */
  async attempt(email: string, ip: string): Promise<void> {
    const { perAccount, perIp, windowSeconds } = this.config.operators.loginThrottle;
    const [account, address] = [this.accountKey(email), this.addressKey(ip)];
    const replies = await this.redis
      .multi()
      .set(account, 0, 'EX', windowSeconds, 'NX')
      .incr(account)
      .pttl(account)
      .set(address, 0, 'EX', windowSeconds, 'NX')
      .incr(address)
      .pttl(address)
      .exec();
    if (!replies) throw new Error('login throttle: Redis transaction was discarded');
    const [accountCount, accountTtl, addressCount, addressTtl] = [1, 2, 4, 5].map((index) => {
      const [error, value] = replies[index];
      if (error) throw error;
      return Number(value);
    });
    const waits = [
      accountCount > perAccount ? accountTtl : 0,
      addressCount > perIp ? addressTtl : 0,
    ];
    const waitMs = Math.max(...waits);
    if (waitMs > 0) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.TooManyAttempts,
        'Too many failed sign-ins; try again later',
        Math.max(1, Math.ceil(waitMs / 1000)),
      );
    }
  }

  async succeeded(email: string, ip: string): Promise<void> {
    await Promise.all([
      this.redis.del(this.accountKey(email)),
      this.redis.eval(GIVE_BACK, 1, this.addressKey(ip)),
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    // Never connected (lazyConnect, e.g. in the CLI): nothing to say goodbye to.
    if (this.redis.status === 'wait') this.redis.disconnect();
    else await this.redis.quit().catch(() => undefined);
  }

  private accountKey(email: string): string {
    return `${this.config.redisPrefix}:login-attempts:account:${sha256Hex(email)}`;
  }

  private addressKey(ip: string): string {
    return `${this.config.redisPrefix}:login-attempts:ip:${ip}`;
  }
}
