import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AcmeModule } from '../acme.module';
import { CERTIFICATE_AUTHORITY, type AcmeOptions, type CertificateAuthority } from '../acme.port';
import { AcmeError } from '../acme.exception';

const SETTINGS = Symbol('SETTINGS');

@Module({
  providers: [{ provide: SETTINGS, useValue: { directoryUrl: 'not a url' } }],
  exports: [SETTINGS],
})
class SettingsModule {}

describe('AcmeModule', () => {
  it('builds the certificate authority from options injected by the factory', async () => {
    const seen: unknown[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [
        AcmeModule.register({
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: async (settings: { directoryUrl: string }): Promise<AcmeOptions> => {
            seen.push(settings);
            return {
              directoryUrl: 'https://acme.example/dir',
              accountEmail: 'ops@example.com',
              accountKeys: { load: async () => null, save: async () => undefined },
            };
          },
        }),
      ],
    }).compile();
    const ca = moduleRef.get<CertificateAuthority>(CERTIFICATE_AUTHORITY);
    expect(seen).toEqual([{ directoryUrl: 'not a url' }]);
    expect(typeof ca.issue).toBe('function');
    expect(typeof ca.check).toBe('function');
    await moduleRef.close();
  });

  it('refuses a directory URL that is not a URL, naming it', async () => {
    const compiling = Test.createTestingModule({
      imports: [
        AcmeModule.register({
          useFactory: () => ({
            directoryUrl: 'letsencrypt',
            accountEmail: 'ops@example.com',
            accountKeys: { load: async () => null, save: async () => undefined },
          }),
        }),
      ],
    }).compile();
    await expect(compiling).rejects.toThrow(AcmeError);
    await expect(compiling).rejects.toThrow('ACME (letsencrypt): the directory URL is not a URL');
  });
});
