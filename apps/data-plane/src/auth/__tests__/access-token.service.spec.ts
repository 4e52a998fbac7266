import { createHmac, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { DataPlaneConfig } from '@platform/config';
import { TenantContext, type TenantRef } from '@platform/tenancy';
import type { TenantEvent, TenantEvents } from '@platform/tenant-events';
import { AccessTokenService, ISSUER } from '../access-token.service';
import { SigningKeyCache } from '../signing-key.cache';
import type { SigningKeyDirectory } from '../signing-key.directory';
import type { SigningKey } from '../tenant-key-set';

const tenantA: TenantRef = {
  id: 'aaaaaaaa-0000-4000-8000-000000000001',
  slug: 'a',
  schemaName: 't_a',
  cluster: 'main',
};
const tenantB: TenantRef = {
  id: 'bbbbbbbb-0000-4000-8000-000000000002',
  slug: 'b',
  schemaName: 't_b',
  cluster: 'main',
};
const user = { id: '5b3f4a4e-8c1d-4f7a-9e2b-1c0d3e4f5a6b', role: 'member' as const };

interface StoredKey {
  kid: string;
  secret: Buffer;
  retireAtMs: number | null;
}

const newKey = (): StoredKey => ({
  kid: randomBytes(16).toString('base64url'),
  secret: randomBytes(32),
  retireAtMs: null,
});

/** The registry as the data plane sees it: keys per tenant, and how often it was asked. */
class FakeDirectory {
  readonly keys = new Map<string, StoredKey[]>();
  reads = 0;

  keysOf(tenantId: string): Promise<SigningKey[]> {
    this.reads++;
    return Promise.resolve(this.stored(tenantId));
  }

  keysOfTenants(tenantIds: readonly string[]): Promise<Map<string, SigningKey[]>> {
    this.reads++;
    return Promise.resolve(new Map(tenantIds.map((id) => [id, this.stored(id)])));
  }

  private stored(tenantId: string): SigningKey[] {
    return (this.keys.get(tenantId) ?? []).map((key) => ({
      kid: key.kid,
      secret: createSecretKey(key.secret),
      retireAtMs: key.retireAtMs,
    }));
  }
}

class FakeEvents {
  handler: ((event: TenantEvent) => void) | null = null;

  subscribe(handler: (event: TenantEvent) => void): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }

  changed(tenantId: string): void {
    this.handler?.({ type: 'tenant-changed', tenantId, hostnames: [] });
  }
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

function handMade(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  sign: ((input: string) => string) | null,
): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${sign ? sign(input) : ''}`;
}

const hs256 = (secret: Buffer | string) => (input: string) =>
  createHmac('sha256', secret).update(input).digest('base64url');

describe('AccessTokenService with per-tenant keys', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  let directory: FakeDirectory;
  let events: FakeEvents;
  let service: AccessTokenService;
  let keyA: StoredKey;
  let keyB: StoredKey;

  const claimsFor = (tenant: TenantRef, extra: Record<string, unknown> = {}) => ({
    sub: user.id,
    role: user.role,
    aud: tenant.id,
    iss: ISSUER,
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    ...extra,
  });
  const inA = <T>(work: () => T): T => TenantContext.run(tenantA, work);
  const verifyIn = async (tenant: TenantRef, token: string) =>
    TenantContext.run(tenant, () => Promise.resolve(service.verify(token)));

  beforeEach(async () => {
    directory = new FakeDirectory();
    events = new FakeEvents();
    keyA = newKey();
    keyB = newKey();
    directory.keys.set(tenantA.id, [keyA]);
    directory.keys.set(tenantB.id, [keyB]);
    const config = {
      jwt: { ttlSeconds: 900 },
      tenantCache: { size: 100, ttlMs: 60_000, unknownHostTtlMs: 1000 },
    } as unknown as DataPlaneConfig;
    const cache = new SigningKeyCache(
      directory as unknown as SigningKeyDirectory,
      events as unknown as TenantEvents,
      config,
    );
    await cache.onModuleInit();
    service = new AccessTokenService(cache, config);
  });

  afterEach(() => jest.useRealTimers());

  it('signs with the tenant’s current key, naming it by kid, for the tenant as audience', async () => {
    const token = await inA(() => service.issue(user));
    const [header, claims] = token
      .split('.')
      .slice(0, 2)
      .map(
        (part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>,
      );
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: keyA.kid });
    expect(claims).toMatchObject({ sub: user.id, role: 'member', aud: tenantA.id, iss: ISSUER });
    expect(claims['exp']).toBe((claims['iat'] as number) + 900);
    expect(await verifyIn(tenantA, token)).toEqual(user);
  });

  it('asks the registry once per tenant, then verifies from memory (synchronously)', async () => {
    const token = await inA(() => service.issue(user));
    const readsAfterIssue = directory.reads;
    for (let i = 0; i < 50; i++) {
      const other = handMade(
        { alg: 'HS256', kid: keyA.kid },
        claimsFor(tenantA, { jti: i }),
        hs256(keyA.secret),
      );
      const answer = inA(() => service.verify(other));
      expect(answer).toEqual(user); // not a promise: no I/O on a warm cache
    }
    expect(inA(() => service.verify(token))).toEqual(user);
    expect(directory.reads).toBe(readsAfterIssue);
  });

  it('refuses on B’s host a token A issued, and one signed with A’s key claiming B', async () => {
    const tokenOfA = await inA(() => service.issue(user));
    expect(await verifyIn(tenantB, tokenOfA)).toBeNull();
    // A's valid key and kid, B as audience: the kid is not among B's keys.
    const forged = handMade(
      { alg: 'HS256', kid: keyA.kid },
      claimsFor(tenantB),
      hs256(keyA.secret),
    );
    expect(await verifyIn(tenantB, forged)).toBeNull();
    // B's own key on A's host, A as audience.
    const crossed = handMade(
      { alg: 'HS256', kid: keyB.kid },
      claimsFor(tenantA),
      hs256(keyB.secret),
    );
    expect(await verifyIn(tenantA, crossed)).toBeNull();
  });

  it('refuses a token signed with the right key whose sub is no user id', async () => {
    const signedFor = (sub: unknown) =>
      handMade({ alg: 'HS256', kid: keyA.kid }, claimsFor(tenantA, { sub }), hs256(keyA.secret));
    // Each of these reached the database as created_by and failed there (a 500).
    for (const sub of ['not-a-uuid', 'a\u0000b', user.id.toUpperCase(), `${user.id} `, 42]) {
      expect(await verifyIn(tenantA, signedFor(sub))).toBeNull();
    }
    expect(await verifyIn(tenantA, signedFor(user.id))).toEqual(user);
  });

  it('refuses a forged kid, and a flood of them costs at most one registry read a second', async () => {
    await verifyIn(tenantA, 'warm.up.cache');
    jest.useFakeTimers({ now: Date.now() + 5_000, doNotFake: ['nextTick', 'setImmediate'] });
    const before = directory.reads;
    for (let i = 0; i < 20; i++) {
      const forged = handMade(
        { alg: 'HS256', kid: randomBytes(16).toString('base64url') },
        claimsFor(tenantA),
        hs256(keyA.secret),
      );
      expect(await verifyIn(tenantA, forged)).toBeNull();
    }
    expect(directory.reads - before).toBe(1);
  });

  it('refuses a token without a kid, alg none, HS/RS confusion, other HMACs and expired tokens', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const kid = keyA.kid;
    const refused = [
      handMade({ alg: 'HS256' }, claimsFor(tenantA), hs256(keyA.secret)),
      handMade({ alg: 'none', kid }, claimsFor(tenantA), null),
      handMade({ alg: 'none', kid }, claimsFor(tenantA), hs256(keyA.secret)),
      handMade({ alg: 'RS256', kid }, claimsFor(tenantA), hs256(publicPem)),
      handMade({ alg: 'RS256', kid }, claimsFor(tenantA), hs256(keyA.secret)),
      handMade({ alg: 'HS512', kid }, claimsFor(tenantA), (input) =>
        createHmac('sha512', keyA.secret).update(input).digest('base64url'),
      ),
      handMade({ alg: 'HS256', kid }, claimsFor(tenantA), hs256(randomBytes(32))),
      handMade(
        { alg: 'HS256', kid },
        claimsFor(tenantA, { iat: nowSeconds() - 7200, exp: nowSeconds() - 1 }),
        hs256(keyA.secret),
      ),
      handMade({ alg: 'HS256', kid }, claimsFor(tenantA, { exp: undefined }), hs256(keyA.secret)),
    ];
    const good = handMade({ alg: 'HS256', kid }, claimsFor(tenantA), hs256(keyA.secret));
    expect(await verifyIn(tenantA, good)).toEqual(user);
    for (const token of refused) expect(await verifyIn(tenantA, token)).toBeNull();
  });

  it('after a rotation: signs with the new key, keeps the old one until it retires, then refuses its tokens even if verified before', async () => {
    jest.useFakeTimers({
      now: new Date('2026-01-01T00:00:00Z'),
      doNotFake: ['nextTick', 'setImmediate'],
    });
    const oldToken = await inA(() => service.issue(user));
    expect(await verifyIn(tenantA, oldToken)).toEqual(user); // now in the verified-token cache

    // The control plane rotates: the old key retires in 60 s, a new one signs.
    const next = newKey();
    keyA.retireAtMs = Date.now() + 60_000;
    directory.keys.set(tenantA.id, [next, keyA]);
    events.changed(tenantA.id);

    const newToken = await inA(() => service.issue(user));
    expect(JSON.parse(Buffer.from(newToken.split('.')[0], 'base64url').toString())).toMatchObject({
      kid: next.kid,
    });
    expect(await verifyIn(tenantA, oldToken)).toEqual(user);
    expect(await verifyIn(tenantA, newToken)).toEqual(user);

    jest.setSystemTime(new Date('2026-01-01T00:00:59.999Z'));
    expect(await verifyIn(tenantA, oldToken)).toEqual(user);
    jest.setSystemTime(new Date('2026-01-01T00:01:00Z'));
    expect(await verifyIn(tenantA, oldToken)).toBeNull();
    expect(await verifyIn(tenantA, newToken)).toEqual(user);
  });

  it('stops accepting a cached token at once when its key is retired by a later rotation', async () => {
    const token = await inA(() => service.issue(user));
    expect(await verifyIn(tenantA, token)).toEqual(user);
    // Two rotations in a row: the key that signed `token` retires now.
    keyA.retireAtMs = Date.now() - 1;
    directory.keys.set(tenantA.id, [newKey(), keyA]);
    events.changed(tenantA.id);
    expect(await verifyIn(tenantA, token)).toBeNull();
  });

  it('drops every tenant’s keys on resubscription', async () => {
    await inA(() => service.issue(user));
    const before = directory.reads;
    events.handler?.({ type: 'resync' });
    await inA(() => service.issue(user));
    expect(directory.reads).toBe(before + 1);
  });

  it('refuses to sign (503) for a tenant without a current key', async () => {
    directory.keys.set(tenantA.id, []);
    await expect(inA(() => service.issue(user))).rejects.toMatchObject({
      code: 'tenant_unavailable',
    });
  });
});
