import type { Redis } from 'ioredis';
import type { Http01ChallengeStore } from './http-01.solver';

/** HTTP-01 proofs in Redis under `<prefix>:acme:http-01:<token>`, expiring by themselves. */
export class RedisHttp01ChallengeStore implements Http01ChallengeStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async put(token: string, keyAuthorization: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.key(token), keyAuthorization, 'EX', ttlSeconds);
  }

  async get(token: string): Promise<string | null> {
    return this.redis.get(this.key(token));
  }

  async delete(token: string): Promise<void> {
    await this.redis.del(this.key(token));
  }

  private key(token: string): string {
    return `${this.prefix}:acme:http-01:${token}`;
  }
}
