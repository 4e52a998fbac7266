import type { KeyObject } from 'node:crypto';

/** One of a tenant's signing keys, opened (the HMAC secret as a KeyObject). */
export interface SigningKey {
  readonly kid: string;
  readonly secret: KeyObject;
  /** Null for the current key; otherwise tokens signed with it are refused from this instant. */
  readonly retireAtMs: number | null;
}

/** A kid as the control plane makes them: 16 random bytes, base64url. */
const KID = /^[A-Za-z0-9_-]{22}$/;

/**
 * The keys of ONE tenant, as loaded from the registry at `loadedAtMs`. A kid is only ever
 * looked up here, among the request's tenant's keys: another tenant's kid is simply unknown, so
 * a token signed with another tenant's (valid) key is refused like a forged one.
 */
export class TenantKeySet {
  private readonly byKid: ReadonlyMap<string, SigningKey>;
  /** The key that signs new tokens; null if the tenant has none (not yet backfilled). */
  readonly current: SigningKey | null;

  constructor(
    keys: readonly SigningKey[],
    readonly loadedAtMs: number,
  ) {
    this.byKid = new Map(keys.map((key) => [key.kid, key]));
    this.current = keys.find((key) => key.retireAtMs === null) ?? null;
  }

  /** The key that may verify a token carrying `kid` at `nowMs`, if any. */
  verifying(kid: string, nowMs: number): SigningKey | undefined {
    const key = this.byKid.get(kid);
    if (!key) return undefined;
    return key.retireAtMs === null || nowMs < key.retireAtMs ? key : undefined;
  }

  knows(kid: string): boolean {
    return this.byKid.has(kid);
  }

  /**
   * The key this set holds for `key`'s kid when nothing about it changed (the same secret and
   * retirement), else `key` itself. A reload that finds the same keys thereby keeps the same
   * objects, and the verdicts cached against them (AccessTokenService checks a cached verdict's
   * key by identity): without this, every tenant's tokens were verified afresh with HMAC after
   * every reload, a few times a minute per token under steady traffic.
   */
  unchanged(key: SigningKey): SigningKey {
    const held = this.byKid.get(key.kid);
    return held && held.retireAtMs === key.retireAtMs && held.secret.equals(key.secret)
      ? held
      : key;
  }
}

/**
 * The `kid` of a compact JWT's header, or null when the header is not JSON or has no
 * well-formed kid. Only the header is decoded; nothing in it is trusted beyond picking a key.
 */
export function kidOf(token: string): string | null {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > 512) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString());
    if (typeof header !== 'object' || header === null) return null;
    const kid: unknown = (header as Record<string, unknown>)['kid'];
    return typeof kid === 'string' && KID.test(kid) ? kid : null;
  } catch {
    return null;
  }
}
