import { createSecureContext } from 'node:tls';
import { SecureContextCache, type CachedCertificate } from '../secure-context-cache';

// A context without a certificate is enough: the cache never looks inside.
const context = createSecureContext();

function certificate(tenantId: string | null): CachedCertificate {
  return { context, certificateId: `cert-${tenantId ?? 'platform'}`, tenantId };
}

describe('SecureContextCache', () => {
  const settings = { size: 100, ttlMs: 60_000, missingTtlMs: 60_000 };

  it("drops a changed tenant's certificates, and only those", () => {
    const cache = new SecureContextCache(settings);
    cache.remember('app.a.com', certificate('a'));
    cache.remember('www.a.com', certificate('a'));
    cache.remember('app.b.com', certificate('b'));
    cache.remember('*.platform.test', certificate(null));
    cache.forgetTenant('a', []);
    expect(cache.get('app.a.com')).toBeUndefined();
    expect(cache.get('www.a.com')).toBeUndefined();
    expect(cache.get('app.b.com')).toEqual(certificate('b'));
    expect(cache.get('*.platform.test')).toEqual(certificate(null));
  });

  it('drops the wildcard when an event names it', () => {
    const cache = new SecureContextCache(settings);
    cache.remember('*.platform.test', certificate(null));
    cache.forgetTenant('any', ['*.platform.test']);
    expect(cache.get('*.platform.test')).toBeUndefined();
  });

  it('drops remembered misses on any change: the certificate may just have been issued', () => {
    const cache = new SecureContextCache(settings);
    cache.remember('new.c.com', { context: null });
    expect(cache.get('new.c.com')).toEqual({ context: null });
    cache.forgetTenant('d', []);
    expect(cache.get('new.c.com')).toBeUndefined();
  });

  it('does not remember misses when their TTL is 0', () => {
    const cache = new SecureContextCache({ ...settings, missingTtlMs: 0 });
    cache.remember('new.c.com', { context: null });
    expect(cache.get('new.c.com')).toBeUndefined();
  });

  it('stays within its size bound', () => {
    const cache = new SecureContextCache({ ...settings, size: 10 });
    for (let i = 0; i < 1000; i++) cache.remember(`h${i}.example.com`, certificate(String(i)));
    expect(cache.size).toBe(10);
  });
});
