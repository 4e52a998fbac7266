import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigValidationError, loadControlPlaneConfig } from '../config.loader';

/**
 * The outside systems' settings, read through the control plane's loader as the apps read them:
 * everything off by default, a chosen driver's missing settings named at start, and secrets
 * kept out of every message and dump.
 */

const HEX_KEY = 'a1'.repeat(32);
const BASE64_KEY = Buffer.alloc(32, 7).toString('base64');
const POWERDNS = {
  DNS_PROVIDER: 'powerdns',
  POWERDNS_API_URL: 'http://127.0.0.1:8081',
  POWERDNS_API_KEY: 'pdns-key',
};
const ACME = {
  ...POWERDNS,
  ACME_DIRECTORY_URL: 'https://127.0.0.1:14000/dir',
  ACME_ACCOUNT_EMAIL: 'ops@platform.test',
  CERTIFICATE_ENCRYPTION_KEY: HEX_KEY,
};

const load = (env: Record<string, string>) =>
  loadControlPlaneConfig({ PLATFORM_DOMAIN: 'platform.test', ...env });

/** The loader's error for `env`; fails the test if the configuration is accepted. */
function refusal(env: Record<string, string>): ConfigValidationError {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return error as ConfigValidationError;
  }
  throw new Error(`configuration accepted: ${JSON.stringify(Object.keys(env))}`);
}

const problemsOf = (env: Record<string, string>) => refusal(env).problems.join('\n');

describe('integrations config', () => {
  describe('defaults', () => {
    it('turns every outside system off', () => {
      const { integrations } = load({});
      expect(integrations.dns).toEqual({ provider: 'none' });
      expect(integrations.acme).toEqual({ enabled: false });
      expect(integrations.certificateKey).toBeNull();
      expect(integrations.storage).toEqual({ provider: 'none' });
      expect(integrations.mail).toEqual({
        provider: 'none',
        from: 'Platform <no-reply@platform.test>',
      });
      expect(integrations.warmPool).toEqual({ size: 0, refillIntervalMs: 5000 });
      expect(integrations.faultHold).toBeNull();
      expect(integrations.dnsRecord).toEqual({ type: 'A', target: '127.0.0.1', ttl: 300 });
    });

    it('links invites over plain HTTP on the data plane port while certificates are off', () => {
      expect(load({}).dataPlanePublicUrl).toBe('http://{slug}.platform.test:3000');
      expect(load({ DATA_PLANE_PORT: '80' }).dataPlanePublicUrl).toBe(
        'http://{slug}.platform.test',
      );
    });
  });

  describe('DNS', () => {
    it('builds the PowerDNS settings, the zone defaulting to the platform domain', () => {
      const { dns } = load(POWERDNS).integrations;
      expect(dns).toMatchObject({
        provider: 'powerdns',
        zone: 'platform.test',
        apiUrl: 'http://127.0.0.1:8081',
        serverId: 'localhost',
      });
      expect(dns.provider === 'powerdns' && dns.apiKey.reveal()).toBe('pdns-key');
    });

    it('names POWERDNS_API_URL and POWERDNS_API_KEY when PowerDNS lacks them', () => {
      const problems = problemsOf({ DNS_PROVIDER: 'powerdns' });
      expect(problems).toMatch(/POWERDNS_API_URL: required when DNS_PROVIDER=powerdns/);
      expect(problems).toMatch(/POWERDNS_API_KEY: required when DNS_PROVIDER=powerdns/);
      expect(problemsOf({ ...POWERDNS, POWERDNS_API_URL: '' })).toMatch(/POWERDNS_API_URL/);
    });

    it('names ROUTE53_HOSTED_ZONE_ID when Route 53 lacks it', () => {
      expect(problemsOf({ DNS_PROVIDER: 'route53' })).toMatch(
        /ROUTE53_HOSTED_ZONE_ID: required when DNS_PROVIDER=route53/,
      );
      const { dns } = load({
        DNS_PROVIDER: 'route53',
        ROUTE53_HOSTED_ZONE_ID: 'Z0123',
        AWS_REGION: 'eu-west-1',
      }).integrations;
      expect(dns).toEqual({
        provider: 'route53',
        zone: 'platform.test',
        hostedZoneId: 'Z0123',
        region: 'eu-west-1',
      });
    });

    it('refuses an unknown provider', () => {
      expect(problemsOf({ DNS_PROVIDER: 'bind' })).toMatch(/DNS_PROVIDER/);
    });

    it('accepts a parent zone of the platform domain and refuses any other', () => {
      const parent = load({ ...POWERDNS, DNS_ZONE: 'Test.' }).integrations.dns;
      expect(parent).toMatchObject({ zone: 'test' });
      expect(problemsOf({ ...POWERDNS, DNS_ZONE: 'example.org' })).toMatch(
        /DNS_ZONE: "example.org" must be platform.test or one of its parent domains/,
      );
      // A suffix that is not a whole label is not a parent domain.
      expect(problemsOf({ ...POWERDNS, DNS_ZONE: 'form.test' })).toMatch(/DNS_ZONE/);
    });

    it.each([
      ['203.0.113.7', 'A', '203.0.113.7'],
      ['2001:DB8::1', 'AAAA', '2001:db8::1'],
      ['LB.example.net.', 'CNAME', 'lb.example.net'],
    ])('points tenant records at %s with a %s record', (target, type, normalised) => {
      const { dnsRecord } = load({ DNS_RECORD_TARGET: target, DNS_RECORD_TTL: '60' }).integrations;
      expect(dnsRecord).toEqual({ type, target: normalised, ttl: 60 });
    });

    it.each([
      ['words with spaces', 'not a host'],
      ['an underscore', 'lb_1.example.net'],
      ['a single label', 'localhost'],
      ['an out-of-range IPv4 address', '256.1.1.1'],
      ['a truncated IPv4 address', '10.0.0'],
      ['a URL', 'http://lb.example.net'],
    ])('refuses a record target that is %s', (_label, target) => {
      expect(problemsOf({ DNS_RECORD_TARGET: target })).toMatch(
        /DNS_RECORD_TARGET: must be an IP address or a DNS hostname/,
      );
    });

    it('refuses a TTL outside 1..86400', () => {
      expect(problemsOf({ DNS_RECORD_TTL: '0' })).toMatch(/DNS_RECORD_TTL/);
      expect(problemsOf({ DNS_RECORD_TTL: '86401' })).toMatch(/DNS_RECORD_TTL/);
    });
  });

  describe('ACME', () => {
    it('turns certificates on with a directory, an account e-mail, a key and DNS', () => {
      const config = load({ ...ACME, ACME_POLL_INTERVAL_MS: '50' });
      expect(config.integrations.acme).toEqual({
        enabled: true,
        directoryUrl: 'https://127.0.0.1:14000/dir',
        accountEmail: 'ops@platform.test',
        pollIntervalMs: 50,
        renewalCheckIntervalMs: 3_600_000,
        expiryAlertDays: 14,
      });
      expect(config.integrations.certificateKey?.reveal()).toBe(HEX_KEY);
    });

    it.each([
      ['letsencrypt', 'https://acme-v02.api.letsencrypt.org/directory'],
      ['letsencrypt-staging', 'https://acme-staging-v02.api.letsencrypt.org/directory'],
    ])('expands the alias %s to the real directory URL', (alias, url) => {
      const { acme } = load({ ...ACME, ACME_DIRECTORY_URL: alias }).integrations;
      expect(acme).toMatchObject({ enabled: true, directoryUrl: url });
    });

    it('refuses a directory that is not https:// or an alias', () => {
      for (const directory of ['http://127.0.0.1:14000/dir', 'letsencrypt-prod']) {
        expect(problemsOf({ ...ACME, ACME_DIRECTORY_URL: directory })).toMatch(
          /ACME_DIRECTORY_URL: must be an https:\/\/ URL, letsencrypt or letsencrypt-staging/,
        );
      }
    });

    it('names ACME_ACCOUNT_EMAIL and CERTIFICATE_ENCRYPTION_KEY when missing, together', () => {
      const error = refusal({ ...POWERDNS, ACME_DIRECTORY_URL: 'letsencrypt-staging' });
      expect(error.problems).toEqual(
        expect.arrayContaining([
          'ACME_ACCOUNT_EMAIL: required when ACME_DIRECTORY_URL is set',
          'CERTIFICATE_ENCRYPTION_KEY: required when ACME_DIRECTORY_URL is set',
        ]),
      );
      expect(error.message).toContain('ACME_ACCOUNT_EMAIL');
      expect(error.message).toContain('CERTIFICATE_ENCRYPTION_KEY');
    });

    it('refuses an account e-mail that is not one', () => {
      expect(problemsOf({ ...ACME, ACME_ACCOUNT_EMAIL: 'ops' })).toMatch(/ACME_ACCOUNT_EMAIL/);
    });

    it('refuses ACME without a DNS provider: the wildcard certificate needs DNS-01', () => {
      const problems = problemsOf({ ...ACME, DNS_PROVIDER: 'none' });
      expect(problems).toMatch(/DNS_PROVIDER: must not be none when ACME_DIRECTORY_URL is set/);
      expect(problems).toContain('DNS-01');
    });

    it("reads ACME_CA_FILE (the directory's own HTTPS root) and names an unreadable one", () => {
      const dir = mkdtempSync(join(tmpdir(), 'integrations-config-'));
      try {
        const file = join(dir, 'ca.pem');
        writeFileSync(file, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
        const { acme } = load({ ...ACME, ACME_CA_FILE: file }).integrations;
        expect(acme).toMatchObject({ directoryCaPem: expect.stringContaining('BEGIN CERT') });
        expect(problemsOf({ ...ACME, ACME_CA_FILE: join(dir, 'missing.pem') })).toMatch(
          /ACME_CA_FILE: cannot read .*missing\.pem/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('defaults invite links to https://{slug}.<domain> with certificates on', () => {
      expect(load(ACME).dataPlanePublicUrl).toBe('https://{slug}.platform.test');
      expect(
        load({ ...ACME, DATA_PLANE_PUBLIC_URL: 'https://{slug}.apps.example.com' })
          .dataPlanePublicUrl,
      ).toBe('https://{slug}.apps.example.com');
    });
  });

  describe('CERTIFICATE_ENCRYPTION_KEY', () => {
    it.each([
      ['64 hex characters', HEX_KEY],
      ['64 upper-case hex characters', HEX_KEY.toUpperCase()],
      ['base64 of 32 bytes', BASE64_KEY],
    ])('accepts %s', (_label, key) => {
      const config = load({ ...ACME, CERTIFICATE_ENCRYPTION_KEY: key });
      expect(config.integrations.certificateKey?.reveal()).toBe(key);
    });

    it.each([
      ['63 hex characters', HEX_KEY.slice(1)],
      ['base64 of 16 bytes', Buffer.alloc(16, 7).toString('base64')],
      ['base64 of 48 bytes', Buffer.alloc(48, 7).toString('base64')],
      ['a passphrase', 'correct horse battery staple'],
    ])('refuses %s without printing it', (_label, key) => {
      const error = refusal({ ...ACME, CERTIFICATE_ENCRYPTION_KEY: key });
      expect(error.problems).toContain(
        'CERTIFICATE_ENCRYPTION_KEY: must be 64 hex characters or base64 of 32 bytes',
      );
      expect(error.message).not.toContain(key);
    });

    it('checks the format even while ACME is off, so the data plane never gets a bad key', () => {
      expect(problemsOf({ CERTIFICATE_ENCRYPTION_KEY: 'short' })).toMatch(
        /CERTIFICATE_ENCRYPTION_KEY: must be/,
      );
      expect(load({ CERTIFICATE_ENCRYPTION_KEY: HEX_KEY }).integrations.certificateKey).not.toBe(
        null,
      );
    });
  });

  describe('storage', () => {
    it('builds the S3 settings for an S3-compatible server', () => {
      const { storage } = load({
        STORAGE_PROVIDER: 's3',
        S3_BUCKET: 'tenants',
        S3_ENDPOINT: 'http://127.0.0.1:4568',
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER-secret',
        S3_CREATE_BUCKET: '1',
      }).integrations;
      expect(storage).toMatchObject({
        provider: 's3',
        bucket: 'tenants',
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:4568',
        forcePathStyle: true,
        accessKeyId: 'S3RVER',
        createBucketIfMissing: true,
      });
      expect(storage.provider === 's3' && storage.secretAccessKey?.reveal()).toBe('S3RVER-secret');
    });

    it('leaves credentials to the AWS default chain when neither key is set', () => {
      const { storage } = load({ STORAGE_PROVIDER: 's3', S3_BUCKET: 'tenants' }).integrations;
      expect(storage).toEqual({
        provider: 's3',
        bucket: 'tenants',
        region: 'us-east-1',
        forcePathStyle: false,
        createBucketIfMissing: false,
      });
    });

    it('names S3_BUCKET when S3 lacks it', () => {
      expect(problemsOf({ STORAGE_PROVIDER: 's3' })).toMatch(
        /S3_BUCKET: required when STORAGE_PROVIDER=s3/,
      );
    });

    it.each([
      ['a key id without a secret', { S3_ACCESS_KEY_ID: 'AKIA' }],
      ['a secret without a key id', { S3_SECRET_ACCESS_KEY: 'only-the-secret' }],
    ])('refuses %s', (_label, keys) => {
      const error = refusal({ STORAGE_PROVIDER: 's3', S3_BUCKET: 'tenants', ...keys });
      expect(error.problems.join('\n')).toMatch(
        /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both or neither/,
      );
      expect(error.message).not.toContain('only-the-secret');
    });

    it('refuses a non-boolean flag and an endpoint that is not a URL', () => {
      const base = { STORAGE_PROVIDER: 's3', S3_BUCKET: 'tenants' };
      expect(problemsOf({ ...base, S3_FORCE_PATH_STYLE: 'yes' })).toMatch(/S3_FORCE_PATH_STYLE/);
      expect(problemsOf({ ...base, S3_ENDPOINT: '127.0.0.1:4568' })).toMatch(/S3_ENDPOINT/);
    });
  });

  describe('mail', () => {
    it('builds the SMTP settings', () => {
      const { mail } = load({
        MAIL_PROVIDER: 'smtp',
        SMTP_URL: 'smtp://127.0.0.1:2525',
        SMTP_IGNORE_TLS: 'true',
        MAIL_FROM: 'Ops <ops@platform.test>',
      }).integrations;
      expect(mail).toMatchObject({
        provider: 'smtp',
        ignoreTLS: true,
        from: 'Ops <ops@platform.test>',
      });
      expect(mail.provider === 'smtp' && mail.url.reveal()).toBe('smtp://127.0.0.1:2525');
    });

    it('names SMTP_URL when SMTP lacks it', () => {
      expect(problemsOf({ MAIL_PROVIDER: 'smtp' })).toMatch(
        /SMTP_URL: required when MAIL_PROVIDER=smtp/,
      );
    });

    it('refuses an SMTP_URL of another scheme without printing its password', () => {
      const error = refusal({
        MAIL_PROVIDER: 'smtp',
        SMTP_URL: 'https://mailer:pw-in-the-url@mail.example.com',
      });
      expect(error.problems).toContain('SMTP_URL: must be an smtp:// or smtps:// URL');
      expect(error.message).not.toContain('pw-in-the-url');
    });
  });

  describe('warm pool, outbox and fault hold', () => {
    it('reads the warm pool size and refill interval, within bounds', () => {
      const { warmPool } = load({
        WARM_POOL_SIZE: '3',
        WARM_POOL_REFILL_INTERVAL_MS: '200',
      }).integrations;
      expect(warmPool).toEqual({ size: 3, refillIntervalMs: 200 });
      expect(problemsOf({ WARM_POOL_SIZE: '-1' })).toMatch(/WARM_POOL_SIZE/);
      expect(problemsOf({ WARM_POOL_SIZE: '1.5' })).toMatch(/WARM_POOL_SIZE/);
      expect(problemsOf({ WARM_POOL_REFILL_INTERVAL_MS: '99' })).toMatch(
        /WARM_POOL_REFILL_INTERVAL_MS/,
      );
      expect(load({ OUTBOX_POLL_INTERVAL_MS: '50' }).integrations.outboxPollIntervalMs).toBe(50);
      expect(problemsOf({ OUTBOX_POLL_INTERVAL_MS: '10' })).toMatch(/OUTBOX_POLL_INTERVAL_MS/);
    });

    it('keeps 100 tenant roles in reserve by default, and takes 0 to turn batching off', () => {
      expect(load({}).integrations.tenantRoleReserve).toEqual({
        size: 100,
        upkeepIntervalMs: 10_000,
      });
      expect(
        load({ TENANT_ROLE_RESERVE_SIZE: '0', TENANT_ROLE_UPKEEP_INTERVAL_MS: '250' }).integrations
          .tenantRoleReserve,
      ).toEqual({ size: 0, upkeepIntervalMs: 250 });
      expect(problemsOf({ TENANT_ROLE_RESERVE_SIZE: '5001' })).toMatch(/TENANT_ROLE_RESERVE_SIZE/);
      expect(problemsOf({ TENANT_ROLE_RESERVE_SIZE: '-1' })).toMatch(/TENANT_ROLE_RESERVE_SIZE/);
      expect(problemsOf({ TENANT_ROLE_UPKEEP_INTERVAL_MS: '50' })).toMatch(
        /TENANT_ROLE_UPKEEP_INTERVAL_MS/,
      );
    });

    it('parses PROVISIONING_FAULT_HOLD under NODE_ENV=test', () => {
      const config = load({ NODE_ENV: 'test', PROVISIONING_FAULT_HOLD: 'dns-record:1500' });
      expect(config.integrations.faultHold).toEqual({ step: 'dns-record', ms: 1500 });
    });

    it.each(['development', 'production'])(
      'refuses PROVISIONING_FAULT_HOLD under NODE_ENV=%s',
      (nodeEnv) => {
        const problems = problemsOf({
          NODE_ENV: nodeEnv,
          SIGNING_KEY_ENCRYPTION_KEY: 'a'.repeat(64),
          PLATFORM_ADMIN_TOKEN: 't'.repeat(24),
          PROVISIONING_FAULT_HOLD: 'activate:10',
        });
        expect(problems).toBe('PROVISIONING_FAULT_HOLD: only allowed with NODE_ENV=test');
      },
    );

    it('refuses a fault hold that is not <step>:<milliseconds>', () => {
      for (const hold of ['activate', 'activate:', 'activate:1s', ':100']) {
        expect(problemsOf({ NODE_ENV: 'test', PROVISIONING_FAULT_HOLD: hold })).toMatch(
          /PROVISIONING_FAULT_HOLD: must be <step>:<milliseconds>/,
        );
      }
    });
  });

  describe('secrets', () => {
    const SECRETS = {
      POWERDNS_API_KEY: 'pdns-api-key-value',
      S3_SECRET_ACCESS_KEY: 's3-secret-key-value',
      SMTP_URL: 'smtp://mailer:smtp-password-value@127.0.0.1:2525',
      CERTIFICATE_ENCRYPTION_KEY: 'b2'.repeat(32),
    };
    const secretValues = [
      'pdns-api-key-value',
      's3-secret-key-value',
      'smtp-password-value',
      'b2'.repeat(32),
    ];
    const everything = {
      ...ACME,
      ...SECRETS,
      STORAGE_PROVIDER: 's3',
      S3_BUCKET: 'tenants',
      S3_ACCESS_KEY_ID: 'S3RVER',
      MAIL_PROVIDER: 'smtp',
    };

    it('keeps every secret out of JSON.stringify and inspect of the config', () => {
      const config = load(everything);
      const printed = `${JSON.stringify(config)}\n${inspect(config, { depth: null })}`;
      for (const value of secretValues) expect(printed).not.toContain(value);
      // ...while the drivers can still read them.
      expect(config.integrations.certificateKey?.reveal()).toBe(SECRETS.CERTIFICATE_ENCRYPTION_KEY);
      expect(
        config.integrations.mail.provider === 'smtp' && config.integrations.mail.url.reveal(),
      ).toBe(SECRETS.SMTP_URL);
    });

    it.each([
      ['a missing setting', { S3_BUCKET: '', DNS_RECORD_TARGET: 'not a host' }, 'S3_BUCKET'],
      ['a value the schema refuses', { WARM_POOL_SIZE: 'lots' }, 'WARM_POOL_SIZE'],
    ])('keeps every secret out of the error for %s', (_label, wrong, named) => {
      const error = refusal({ ...everything, ...wrong });
      const printed = [error.message, String(error), JSON.stringify(error), inspect(error)].join();
      expect(printed).toContain(named);
      for (const value of secretValues) expect(printed).not.toContain(value);
    });
  });
});
