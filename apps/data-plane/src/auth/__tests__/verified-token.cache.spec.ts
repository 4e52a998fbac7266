import { VerifiedTokenCache } from '../verified-token.cache';

const user = { id: 'u-1', role: 'member' };
const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

describe('VerifiedTokenCache', () => {
  afterEach(() => jest.useRealTimers());

  it('answers a token only for the tenant it was verified for', () => {
    const cache = new VerifiedTokenCache<typeof user>(10);
    cache.remember('tenant-a', 'token-1', user, inSeconds(60));
    expect(cache.get('tenant-a', 'token-1')).toBe(user);
    expect(cache.get('tenant-b', 'token-1')).toBeUndefined();
    expect(cache.get('tenant-a', 'token-2')).toBeUndefined();
  });

  it('keeps scope and token apart even when their concatenation is the same', () => {
    const cache = new VerifiedTokenCache<typeof user>(10);
    cache.remember('a', 'b c', user, inSeconds(60));
    expect(cache.get('a b', 'c')).toBeUndefined();
  });

  it('forgets a token when it expires, as jsonwebtoken would refuse it', () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const cache = new VerifiedTokenCache<typeof user>(10);
    const exp = Date.parse('2026-01-01T00:01:00Z') / 1000;
    cache.remember('tenant-a', 'token-1', user, exp);
    jest.setSystemTime(new Date('2026-01-01T00:00:59.999Z'));
    expect(cache.get('tenant-a', 'token-1')).toBe(user);
    jest.setSystemTime(new Date('2026-01-01T00:01:00Z'));
    expect(cache.get('tenant-a', 'token-1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never remembers a token without an expiry, or one already expired', () => {
    const cache = new VerifiedTokenCache<typeof user>(10);
    cache.remember('tenant-a', 'no-exp', user, undefined);
    cache.remember('tenant-a', 'expired', user, inSeconds(-1));
    expect(cache.get('tenant-a', 'no-exp')).toBeUndefined();
    expect(cache.get('tenant-a', 'expired')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stays within its bound, dropping the least recently used', () => {
    const cache = new VerifiedTokenCache<typeof user>(2);
    cache.remember('t', 'one', user, inSeconds(60));
    cache.remember('t', 'two', user, inSeconds(60));
    expect(cache.get('t', 'one')).toBe(user);
    cache.remember('t', 'three', user, inSeconds(60));
    expect(cache.size).toBe(2);
    expect(cache.get('t', 'two')).toBeUndefined();
    expect(cache.get('t', 'one')).toBe(user);
  });
});
