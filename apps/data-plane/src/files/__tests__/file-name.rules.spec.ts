import fc from 'fast-check';
import { contentTypeViolation, fileNameViolation } from '../file-name.rules';

describe('file name rules', () => {
  it.each([
    ['report.pdf'],
    ['Quarterly report (final) v2.xlsx'],
    ['日本語のファイル.txt'],
    ['emoji 📎.png'],
    ['.hidden'],
    ['a'.repeat(200)],
    ['📎'.repeat(200)],
  ])('accepts %j', (name) => {
    expect(fileNameViolation(name)).toBeNull();
  });

  it.each([
    ['', 'length'],
    ['a'.repeat(201), 'length'],
    ['📎'.repeat(201), 'length'],
    ['a/b', 'no-slash'],
    ['a\\b', 'no-slash'],
    ['/etc/passwd', 'no-slash'],
    ['nul\u0000', 'no-control-character'],
    ['del\u007f', 'no-control-character'],
    ['c1\u0085', 'no-control-character'],
    ['line\u2028sep', 'no-control-character'],
    ['rlo\u202eexe.pdf', 'no-control-character'],
    ['isolate\u2067x', 'no-control-character'],
    ['.', 'not-blank'],
    ['..', 'not-blank'],
    [' \u3000 ', 'not-blank'],
  ])('refuses %j by the rule %s', (name, rule) => {
    expect(fileNameViolation(name)?.rule).toBe(rule);
  });

  it('accepts a name only if it is 1-200 characters without slashes or control characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 260 }), (name) => {
        const accepted = fileNameViolation(name) === null;
        const length = [...name].length;
        const plausible =
          length >= 1 &&
          length <= 200 &&
          !/[/\\]/.test(name) &&
          !/\p{Cc}/u.test(name) &&
          name.trim() !== '' &&
          name !== '.' &&
          name !== '..';
        // Accepted implies plausible; the converse fails only on bidi marks and separators.
        if (accepted) expect(plausible).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('content type rule', () => {
  it.each([['application/octet-stream'], ['text/plain; charset=utf-8'], ['image/svg+xml']])(
    'accepts %j',
    (value) => expect(contentTypeViolation(value)).toBeNull(),
  );

  it.each([['nonsense'], [''], ['text/plain\u00e9'], ['a/'.padEnd(300, 'x')], ['text/\tplain']])(
    'refuses %j',
    (value) => expect(contentTypeViolation(value)?.rule).toBe('content-type'),
  );
});
