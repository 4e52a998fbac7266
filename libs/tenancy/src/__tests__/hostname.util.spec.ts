import { normalizeHostname, subdomainSlug } from '../hostname.util';

describe('normalizeHostname', () => {
  it.each([
    ['ACME.Example.COM', 'acme.example.com'],
    ['acme.example.com.', 'acme.example.com'],
    ['acme.example.com:3000', 'acme.example.com'],
    ['acme.example.com.:443', 'acme.example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['  acme.localhost  ', 'acme.localhost'],
  ])('normalises %p to %p', (raw, expected) => {
    expect(normalizeHostname(raw)).toBe(expected);
  });

  it.each([
    undefined,
    '',
    '   ',
    '127.0.0.1',
    '127.0.0.1:80',
    '[::1]',
    '[::1]:3000',
    'acme.example.com:99999',
    'acme.example.com:abc',
    'acme..example.com',
    'acme example.com',
    'acme.example.com@evil.com',
    'acme.example.com/path',
    '*.example.com',
    '-acme.example.com',
    'acme-.example.com',
    `${'a'.repeat(64)}.example.com`,
    'a'.repeat(301),
    'acme%2eexample.com',
  ])('refuses %p', (raw) => {
    expect(normalizeHostname(raw)).toBeNull();
  });
});

describe('subdomainSlug', () => {
  it('takes the single label under the platform domain', () => {
    expect(subdomainSlug('acme.example.com', 'example.com')).toBe('acme');
  });

  it.each(['example.com', 'a.b.example.com', 'acme.example.com.evil.com', 'xexample.com'])(
    'finds no slug in %p',
    (hostname) => {
      expect(subdomainSlug(hostname, 'example.com')).toBeNull();
    },
  );
});
