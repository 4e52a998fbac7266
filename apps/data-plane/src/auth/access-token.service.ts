import { Inject, Injectable } from '@nestjs/common';
import { sign, verify, type JwtPayload } from 'jsonwebtoken';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { TenantContext } from '@platform/tenancy';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { SigningKeyCache } from './signing-key.cache';
import { kidOf, type SigningKey, type TenantKeySet } from './tenant-key-set';
import type { TenantUser } from './tenant-user';
import { VerifiedTokenCache } from './verified-token.cache';

export const ISSUER = 'tenancy-data-plane';
const ALGORITHM = 'HS256';
const ROLES: readonly string[] = ['admin', 'member', 'viewer'];
/** About 0.5 KB each (tenant id and token as the key, the user, the key's id): 5 MB at most. */
const VERIFIED_TOKENS_CACHED = 10_000;
/**
 * How far in the future a token's `iat` may be: the replicas' clocks may differ a little, but a
 * token "issued" later than that was not issued by a replica (jsonwebtoken checks `exp` and
 * `nbf`, not `iat`).
 */
const ISSUED_AT_SKEW_SECONDS = 60;

/** What the verified-token cache remembers: the user, and which key vouched for them. */
interface VerifiedToken {
  readonly user: TenantUser;
  readonly key: SigningKey;
}

/** Verification's answer, or "the kid is unknown here" (maybe a key rotated in a moment ago). */
type Verdict = TenantUser | null | typeof UNKNOWN_KID;
const UNKNOWN_KID = Symbol('unknown kid');

/**
 * Access tokens are bound to the tenant that issued them, twice over: they are signed with that
 * tenant's own key (named by `kid` in the header, looked up among this tenant's keys only) and
 * their audience is the tenant id. A token from tenant A's host fails on tenant B's host, and so
 * does a token signed with tenant A's key that claims B as audience. The algorithm is pinned to
 * HS256: `alg: none` and HS/RS confusion are refused before any key is used.
 *
 * Keys come from SigningKeyCache (no database round trip once a tenant's keys are loaded), and a
 * token already verified comes from VerifiedTokenCache, as long as the key that verified it is
 * still the one loaded for its kid and has not retired: a rotation (which reloads the keys)
 * makes every cached verdict be checked again, and a retired key's tokens stop at once.
 */
@Injectable()
export class AccessTokenService {
  readonly ttlSeconds: number;
  private readonly verified = new VerifiedTokenCache<VerifiedToken>(VERIFIED_TOKENS_CACHED);

  constructor(
    private readonly keys: SigningKeyCache,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.ttlSeconds = config.jwt.ttlSeconds;
  }

  async issue(user: TenantUser): Promise<string> {
    const tenantId = TenantContext.current().id;
    const key = await this.signingKey(tenantId);
    return new Promise((resolve, reject) => {
      sign(
        { role: user.role },
        key.secret,
        {
          algorithm: ALGORITHM,
          keyid: key.kid,
          subject: user.id,
          audience: tenantId,
          issuer: ISSUER,
          expiresIn: this.ttlSeconds,
        },
        (error, token) =>
          error || !token ? reject(error ?? new Error('no token')) : resolve(token),
      );
    });
  }

  /** Fails (503) now rather than after a refresh token was spent, when nothing could sign. */
  async signingKey(tenantId: string): Promise<SigningKey> {
    let keys = this.keys.cached(tenantId) ?? (await this.keys.load(tenantId));
    if (!keys.current) keys = (await this.keys.reloadIfStale(tenantId, keys)) ?? keys;
    if (!keys.current) {
      throw new DataPlaneException(
        DataPlaneErrorCode.TenantUnavailable,
        'This tenant cannot sign in right now; try again shortly',
        5,
      );
    }
    return keys.current;
  }

  /**
   * The user, or null for any token that is forged, expired, signed with a retired key or with a
   * key of another tenant, or issued for another tenant. Synchronous when the tenant's keys are
   * cached (the usual case): then nothing waits on I/O.
   */
  verify(token: string): TenantUser | null | Promise<TenantUser | null> {
    const tenantId = TenantContext.current().id;
    const now = Date.now();
    const keys = this.keys.cached(tenantId, now);
    if (keys) {
      const verdict = this.verifyWith(keys, tenantId, token, now);
      return verdict === UNKNOWN_KID ? this.retryUnknownKid(keys, tenantId, token) : verdict;
    }
    return this.keys.load(tenantId).then((loaded) => {
      const verdict = this.verifyWith(loaded, tenantId, token, Date.now());
      return verdict === UNKNOWN_KID ? null : verdict;
    });
  }

  private retryUnknownKid(
    stale: TenantKeySet,
    tenantId: string,
    token: string,
  ): TenantUser | null | Promise<TenantUser | null> {
    const reload = this.keys.reloadIfStale(tenantId, stale);
    if (!reload) return null;
    return reload.then((fresh) => {
      const verdict = this.verifyWith(fresh, tenantId, token, Date.now());
      return verdict === UNKNOWN_KID ? null : verdict;
    });
  }

  private verifyWith(keys: TenantKeySet, tenantId: string, token: string, now: number): Verdict {
    const known = this.verified.get(tenantId, token);
    // The same key object means no reload happened since; a reload re-verifies (cheaply).
    if (known && keys.verifying(known.key.kid, now) === known.key) return known.user;
    const kid = kidOf(token);
    if (!kid) return null;
    const key = keys.verifying(kid, now);
    if (!key) return keys.knows(kid) ? null : UNKNOWN_KID;
    let claims: string | JwtPayload;
    try {
      claims = verify(token, key.secret, {
        algorithms: [ALGORITHM],
        audience: tenantId,
        issuer: ISSUER,
      });
    } catch {
      return null;
    }
    const user = toUser(claims);
    if (!user || typeof claims !== 'object' || typeof claims.exp !== 'number') return null;
    if (typeof claims.iat !== 'number' || claims.iat > now / 1000 + ISSUED_AT_SKEW_SECONDS) {
      return null;
    }
    // Remembered until the token expires or its key retires, whichever comes first.
    const until =
      key.retireAtMs === null ? claims.exp : Math.min(claims.exp, key.retireAtMs / 1000);
    this.verified.remember(tenantId, token, { user, key }, until);
    return user;
  }
}

/**
 * A user id as the tenant's users table makes them. A signed token whose `sub` is anything else
 * (only the tenant's key can sign one) reached the database as `created_by` and failed there, a
 * 500; it is not a user, so the token is refused like any other that names no user.
 */
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function toUser(claims: string | JwtPayload | undefined): TenantUser | null {
  if (typeof claims !== 'object') return null;
  const role: unknown = claims['role'];
  if (typeof claims.sub !== 'string' || !USER_ID.test(claims.sub)) return null;
  if (typeof role !== 'string' || !ROLES.includes(role)) return null;
  return { id: claims.sub, role: role as TenantUser['role'] };
}
