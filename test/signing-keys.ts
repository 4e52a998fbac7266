/**
 * Test helpers for tenant-bound tokens: a tenant's signing keys as the registry holds them,
 * opened with the platform's SIGNING_KEY_ENCRYPTION_KEY, and JWTs made by hand, so header and
 * claims can be anything an attacker might send.
 */
import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { PrivateKeyCipher } from '@platform/acme';
import type { RunningPlatform } from './platform-harness';

export const TOKEN_ISSUER = 'tenancy-data-plane';

export interface OpenedSigningKey {
  readonly kid: string;
  readonly secret: Buffer;
  readonly retireAt: Date | null;
}

/** The tenant's keys, newest first (the current one has `retireAt` null). */
export async function signingKeysOf(
  platform: RunningPlatform,
  tenantId: string,
): Promise<OpenedSigningKey[]> {
  const cipher = PrivateKeyCipher.fromSecret(platform.controlPlaneEnv.SIGNING_KEY_ENCRYPTION_KEY);
  const db = new Client({ connectionString: platform.database.url });
  await db.connect();
  try {
    const { rows } = await db.query<{ kid: string; secret_sealed: string; retire_at: Date | null }>(
      `SELECT kid, secret_sealed, retire_at FROM platform.tenant_signing_keys
        WHERE tenant_id = $1 ORDER BY created_at DESC, id`,
      [tenantId],
    );
    return rows.map((row) => ({
      kid: row.kid,
      secret: Buffer.from(cipher.decrypt(row.secret_sealed), 'base64'),
      retireAt: row.retire_at,
    }));
  } finally {
    await db.end();
  }
}

export async function currentSigningKey(
  platform: RunningPlatform,
  tenantId: string,
): Promise<OpenedSigningKey> {
  const current = (await signingKeysOf(platform, tenantId)).find((key) => key.retireAt === null);
  if (!current) throw new Error(`tenant ${tenantId} has no current signing key`);
  return current;
}

export const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWT with exactly this header and these claims; unsigned when `sign` is null. */
export function makeToken(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  sign: ((input: string) => string) | null,
): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${sign ? sign(input) : ''}`;
}

export const hmac =
  (algorithm: 'sha256' | 'sha384' | 'sha512', secret: string | Buffer) => (input: string) =>
    createHmac(algorithm, secret).update(input).digest('base64url');

export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
