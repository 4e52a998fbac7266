import { certificateSubjectFor } from '../certificate-subject.util';

const DOMAIN = 'platform.test';

describe('certificateSubjectFor', () => {
  it('maps the apex and single-label subdomains to the platform wildcard', () => {
    for (const hostname of ['platform.test', 'acme.platform.test', 'x-1.platform.test']) {
      expect(certificateSubjectFor(hostname, DOMAIN)).toEqual({
        kind: 'platform',
        subject: '*.platform.test',
      });
    }
  });

  it('maps nothing for deeper platform names, which no wildcard covers', () => {
    expect(certificateSubjectFor('a.b.platform.test', DOMAIN)).toBeNull();
    expect(certificateSubjectFor('_acme-challenge.a.platform.test', DOMAIN)).toBeNull();
  });

  it('maps every other name to a certificate of its own (the registry decides if one exists)', () => {
    expect(certificateSubjectFor('app.acme.com', DOMAIN)).toEqual({
      kind: 'custom',
      subject: 'app.acme.com',
    });
    // Look-alikes of the platform domain are custom names, never the wildcard.
    for (const hostname of ['notplatform.test', 'platform.test.evil.com', 'platform.testing']) {
      expect(certificateSubjectFor(hostname, DOMAIN)?.kind).toBe('custom');
    }
  });
});
