import { createHash, randomBytes } from 'node:crypto';

/** What a sign-in (login, invite, refresh) answers. */
export interface TokenPair {
  readonly accessToken: string;
  /** Opaque and single-use: POST /api/auth/refresh exchanges it for a new pair. */
  readonly refreshToken: string;
  /** The access token's lifetime in seconds. */
  readonly expiresIn: number;
}

/** 256 random bits, base64url: 43 characters. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Stored as SHA-256: 256 random bits need no slow hash, only not to be stored as they are. */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{43}$/;
