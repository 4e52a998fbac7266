import { createSecretKey, randomBytes } from 'node:crypto';
import { TenantKeySet, kidOf } from '../tenant-key-set';

const key = (kid: string, retireAtMs: number | null) => ({
  kid,
  secret: createSecretKey(randomBytes(32)),
  retireAtMs,
});
const KID_1 = 'a'.repeat(22);
const KID_2 = 'b'.repeat(22);
const header = (value: unknown) =>
  `${Buffer.from(JSON.stringify(value)).toString('base64url')}.e30.sig`;

describe('TenantKeySet', () => {
  it('signs with the key that has no retirement, verifies with keys not yet retired', () => {
    const now = 1_000_000;
    const set = new TenantKeySet([key(KID_1, now + 10), key(KID_2, null)], now);
    expect(set.current?.kid).toBe(KID_2);
    expect(set.verifying(KID_1, now + 9)?.kid).toBe(KID_1);
    expect(set.verifying(KID_1, now + 10)).toBeUndefined();
    expect(set.knows(KID_1)).toBe(true);
    expect(set.verifying('c'.repeat(22), now)).toBeUndefined();
    expect(set.knows('c'.repeat(22))).toBe(false);
  });

  it('has no current key when every key is retiring', () => {
    expect(new TenantKeySet([key(KID_1, 5)], 0).current).toBeNull();
  });
});

describe('kidOf', () => {
  it('reads a well-formed kid from the header only', () => {
    expect(kidOf(header({ alg: 'HS256', kid: KID_1 }))).toBe(KID_1);
  });

  it.each([
    ['no kid', header({ alg: 'HS256' })],
    ['a numeric kid', header({ kid: 42 })],
    ['a kid of the wrong shape', header({ kid: '../../etc/passwd' })],
    ['a header that is not JSON', 'bm90IGpzb24.e30.sig'],
    ['a header that is JSON null', header(null)],
    ['no dot at all', 'abcdef'],
    ['an empty header', '.e30.sig'],
  ])('gives null for %s', (_label, token) => {
    expect(kidOf(token)).toBeNull();
  });
});
