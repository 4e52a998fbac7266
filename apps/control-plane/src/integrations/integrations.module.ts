import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Redis } from 'ioredis';
import {
  CERTIFICATE_AUTHORITY,
  PrivateKeyCipher,
  RedisHttp01ChallengeStore,
  createCertificateAuthority,
} from '@platform/acme';
import type { ControlPlaneConfig } from '@platform/config';
import { DNS_PROVIDER, createDnsProvider } from '@platform/dns';
import { MAIL_TRANSPORT, createMailTransport, type MailTransport } from '@platform/mail';
import { OBJECT_STORAGE, objectStorageFromSettings, type ObjectStorage } from '@platform/storage';
import { RegistryAcmeAccountStore } from '../certificates/registry-acme-account.store';
import { HTTP01_CHALLENGE_STORE, PRIVATE_KEY_CIPHER } from './integrations.tokens';

const CHALLENGE_REDIS = Symbol('CHALLENGE_REDIS');

/** Releases the S3 client's keep-alive sockets, the SMTP connections and Redis at shutdown. */
@Injectable()
class IntegrationsShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage | null,
    @Inject(MAIL_TRANSPORT) private readonly mail: MailTransport | null,
    @Inject(CHALLENGE_REDIS) private readonly challengeRedis: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.storage?.close(), this.mail?.close(), this.challengeRedis.quit()]);
  }
}

/**
 * The outside systems onboarding talks to, each behind its port and chosen by config. A system
 * that is off is provided as `null`: the step that needs it records itself `skipped`, naming
 * the setting that would turn it on, rather than pretending it ran.
 */
@Global()
@Module({})
export class IntegrationsModule {
  static forRoot(config: ControlPlaneConfig): DynamicModule {
    const { dns, acme, storage, mail, certificateKey } = config.integrations;
    const cipher = certificateKey ? PrivateKeyCipher.fromSecret(certificateKey.reveal()) : null;
    const providers: Provider[] = [
      { provide: PRIVATE_KEY_CIPHER, useValue: cipher },
      {
        provide: CHALLENGE_REDIS,
        useFactory: () => {
          const redis = new Redis(config.redisUrl.reveal(), {
            lazyConnect: true,
            maxRetriesPerRequest: 2,
          });
          redis.on('error', () => undefined); // surfaced by the failing put/delete
          return redis;
        },
      },
      {
        provide: HTTP01_CHALLENGE_STORE,
        inject: [CHALLENGE_REDIS],
        useFactory: (redis: Redis) => new RedisHttp01ChallengeStore(redis, config.redisPrefix),
      },
      {
        provide: DNS_PROVIDER,
        useFactory: () =>
          dns.provider === 'none'
            ? null
            : createDnsProvider(
                dns.provider === 'powerdns'
                  ? {
                      provider: 'powerdns',
                      apiUrl: dns.apiUrl,
                      apiKey: dns.apiKey.reveal(),
                      serverId: dns.serverId,
                      zone: dns.zone,
                    }
                  : {
                      provider: 'route53',
                      hostedZoneId: dns.hostedZoneId,
                      region: dns.region,
                      zone: dns.zone,
                    },
              ),
      },
      {
        provide: CERTIFICATE_AUTHORITY,
        inject: [getDataSourceToken()],
        useFactory: (registry: DataSource) =>
          acme.enabled && cipher
            ? createCertificateAuthority({
                directoryUrl: acme.directoryUrl,
                accountEmail: acme.accountEmail,
                ...(acme.directoryCaPem && { directoryCaPem: acme.directoryCaPem }),
                ...(acme.pollIntervalMs && { pollIntervalMs: acme.pollIntervalMs }),
                accountKeys: new RegistryAcmeAccountStore(registry, acme.directoryUrl, cipher),
              })
            : null,
      },
      {
        provide: OBJECT_STORAGE,
        useFactory: () => objectStorageFromSettings(storage),
      },
      {
        provide: MAIL_TRANSPORT,
        useFactory: () =>
          mail.provider === 'none'
            ? null
            : createMailTransport({
                provider: 'smtp',
                url: mail.url.reveal(),
                ignoreTLS: mail.ignoreTLS,
              }),
      },
    ];
    return {
      module: IntegrationsModule,
      providers: [...providers, IntegrationsShutdown],
      exports: providers.map((provider) => (provider as { provide: symbol }).provide),
    };
  }
}
