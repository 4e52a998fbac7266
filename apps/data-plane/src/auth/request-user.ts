import type { IncomingMessage } from 'node:http';
import type { AccessTokenService } from './access-token.service';
import { bearerToken } from './bearer-token';
import type { TenantUser } from './tenant-user';

const VERIFIED_USER = Symbol('platform.verifiedUser');

type Verdict = TenantUser | null | Promise<TenantUser | null>;

interface VerifiedRequest extends IncomingMessage {
  [VERIFIED_USER]?: Verdict;
}

/**
 * The user of the request's bearer token, or null when it has none or one that does not verify
 * for the current tenant; a promise only while the tenant's keys load. Verified once per
 * request: the rate-limit middleware needs the user to count against, and the guard then asks
 * again. Reading the header and looking the token up twice cost every signed-in request a few
 * microseconds (a CPU profile of `npm run bench`). The answer is the request's own: its
 * Authorization header and its tenant cannot change between the two.
 */
export function requestUser(request: IncomingMessage, tokens: AccessTokenService): Verdict {
  const verified = request as VerifiedRequest;
  let verdict = verified[VERIFIED_USER];
  if (verdict === undefined) {
    const token = bearerToken(request.headers.authorization);
    verdict = token ? tokens.verify(token) : null;
    verified[VERIFIED_USER] = verdict;
  }
  return verdict;
}
