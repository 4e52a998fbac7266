import { slugViolation } from '../slug.rules';

describe('slugViolation', () => {
  it.each(['acme', 'acme-corp', 'a1b', 'x'.repeat(40), '123'])('accepts %p', (slug) => {
    expect(slugViolation(slug)).toBeNull();
  });

  it.each([
    ['', 'required'],
    [undefined, 'required'],
    [42, 'required'],
    ['ab', 'length'],
    ['x'.repeat(41), 'length'],
    ['Acme', 'charset'],
    ['acme_corp', 'charset'],
    ['äcme', 'charset'],
    ["acme';drop", 'charset'],
    ['acme.evil', 'charset'],
    ['-acme', 'hyphen-edge'],
    ['acme-', 'hyphen-edge'],
    ['xn--acme', 'double-hyphen'],
    ['www', 'reserved'],
    ['public', 'reserved'],
    ['pg-admin', 'reserved'],
    ['pg1', 'reserved'],
  ])('refuses %p by rule %s', (slug, rule) => {
    expect(slugViolation(slug)?.rule).toBe(rule);
  });
});
