import { generatePassword, passwordProblem } from '../password-policy';

describe('passwordProblem', () => {
  const email = 'Jane.Doe@Example.com';

  it.each([
    ['short', 'elevenchars', /at least 12 characters/],
    ['too long', 'abcdefghij'.repeat(26), /at most 256/],
    ['the e-mail', 'jane.doe@example.com', /e-mail/],
    ['the e-mail in another case', 'JANE.DOE@EXAMPLE.COM', /e-mail/],
    ['the e-mail with a suffix', 'jane.doe@example.com!', /e-mail/],
    ['a common password', 'Password1234', /too common/],
    ['a repeated character', 'aaaaaaaaaaaaaaa', /different characters/],
    ['two characters repeated', 'abababababababab', /different characters/],
  ])('refuses %s', (_label, password, rule) => {
    expect(passwordProblem(password, email)).toMatch(rule);
  });

  it('refuses the local part when it is long enough to pass the length rule', () => {
    expect(passwordProblem('jane.doe.long', 'jane.doe.long@example.com')).toMatch(/e-mail/);
  });

  it.each(['correct-horse-battery', 'Tr0ub4dor&3xyz', 'a quiet walk in the park'])(
    'accepts %s',
    (password) => {
      expect(passwordProblem(password, email)).toBeNull();
    },
  );

  it('generates passwords that pass its own rules, different every time', () => {
    const generated = Array.from({ length: 50 }, generatePassword);
    for (const password of generated) expect(passwordProblem(password, email)).toBeNull();
    expect(new Set(generated).size).toBe(50);
  });
});
