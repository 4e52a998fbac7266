import type { ChallengeSolver } from './acme.port';

/**
 * Where HTTP-01 proofs wait for the CA: written by the worker that runs the order, read by
 * whichever data-plane replica the CA's request reaches, so it must be shared (Redis).
 */
export interface Http01ChallengeStore {
  put(token: string, keyAuthorization: string, ttlSeconds: number): Promise<void>;
  get(token: string): Promise<string | null>;
  delete(token: string): Promise<void>;
}

// Long enough for the CA's validation (seconds), short enough that a forgotten one expires.
const DEFAULT_TTL_SECONDS = 600;

/**
 * HTTP-01 (RFC 8555 §8.3): the CA fetches `http://<name>/.well-known/acme-challenge/<token>`
 * and expects the key authorization. For custom domains, whose DNS the platform does not
 * control; the customer's CNAME sends the CA to the data plane, which answers from the store.
 */
export class Http01Solver implements ChallengeSolver {
  readonly type = 'http-01';

  constructor(
    private readonly store: Http01ChallengeStore,
    private readonly ttlSeconds: number = DEFAULT_TTL_SECONDS,
  ) {}

  async prepare(_identifier: string, token: string, keyAuthorization: string): Promise<void> {
    await this.store.put(token, keyAuthorization, this.ttlSeconds);
  }

  async cleanup(_identifier: string, token: string): Promise<void> {
    await this.store.delete(token);
  }
}

/** ACME tokens are base64url (RFC 8555 §8.1); anything else is not worth a store lookup. */
export function isAcmeToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{16,128}$/.test(token);
}
