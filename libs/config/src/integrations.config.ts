import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { Secret } from './secret';

/**
 * Settings for the outside systems onboarding talks to: DNS, the ACME certificate authority,
 * object storage and mail. Each is off (`none`) unless configured, so a laptop runs the
 * platform with nothing but PostgreSQL and Redis; a step whose system is off is recorded as
 * `skipped`, with the setting that would turn it on. Choosing a driver makes its settings
 * required, and a missing one is named at start.
 */
const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const LETS_ENCRYPT_DIRECTORIES: Record<string, string> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/**
 * Object storage: the control plane's onboarding makes each tenant's prefix, the data plane
 * stores tenant files under it. Both read the same variables, so one .env serves both.
 */
export const storageEnvSchema = z.object({
  STORAGE_PROVIDER: z.enum(['none', 's3']).default('none'),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  /** For S3-compatible servers (MinIO, s3rver, R2...); unset means AWS. */
  S3_ENDPOINT: z.string().url().optional(),
  S3_FORCE_PATH_STYLE: flag.default('false'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Create the bucket at start when missing (development and tests). */
  S3_CREATE_BUCKET: flag.default('false'),
});

export type StorageEnv = z.infer<typeof storageEnvSchema>;

export const integrationsEnvSchema = z.object({
  DNS_PROVIDER: z.enum(['none', 'powerdns', 'route53']).default('none'),
  /** The zone tenant records go into; the platform domain unless it is delegated elsewhere. */
  DNS_ZONE: z.string().optional(),
  /** Where tenant hostnames point: an IPv4/IPv6 address (A/AAAA) or a hostname (CNAME). */
  DNS_RECORD_TARGET: z.string().default('127.0.0.1'),
  DNS_RECORD_TTL: z.coerce.number().int().min(1).max(86400).default(300),
  POWERDNS_API_URL: z.string().url().optional(),
  POWERDNS_API_KEY: z.string().optional(),
  POWERDNS_SERVER_ID: z.string().default('localhost'),
  ROUTE53_HOSTED_ZONE_ID: z.string().optional(),
  AWS_REGION: z.string().default('us-east-1'),

  /** An ACME directory URL, or `letsencrypt` / `letsencrypt-staging`. Unset: no certificates. */
  ACME_DIRECTORY_URL: z.string().optional(),
  ACME_ACCOUNT_EMAIL: z.string().email().optional(),
  /** A PEM file trusted for the directory's own HTTPS (Pebble's self-signed listener). */
  ACME_CA_FILE: z.string().optional(),
  ACME_POLL_INTERVAL_MS: z.coerce.number().int().min(10).optional(),
  /** Encrypts certificate and account private keys at rest: 64 hex chars or base64 of 32 bytes. */
  CERTIFICATE_ENCRYPTION_KEY: z.string().optional(),
  /** How often the worker looks for certificates to renew (at two thirds of their lifetime). */
  CERTIFICATE_RENEWAL_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).default(3_600_000),
  /** A certificate this close to expiry is logged as an error and flagged in metrics. */
  CERTIFICATE_EXPIRY_ALERT_DAYS: z.coerce.number().int().min(1).max(60).default(14),

  /** Resolvers that verify custom domains (`ip` or `ip:port`, comma-separated); system's if empty. */
  CUSTOM_DOMAIN_DNS_SERVERS: z.string().default(''),
  /** The TXT ownership record lives at `<label>.<hostname>`. */
  CUSTOM_DOMAIN_TXT_LABEL: z
    .string()
    .regex(/^_[a-z0-9-]{1,40}$/, 'must be an underscore label such as _platform-challenge')
    .default('_platform-challenge'),
  /** How long a customer has to publish the records before the domain is `verification_failed`. */
  CUSTOM_DOMAIN_VERIFY_WINDOW_MINUTES: z.coerce.number().positive().default(4320),
  /** First delay between checks; doubles up to an hour. */
  CUSTOM_DOMAIN_VERIFY_RETRY_MS: z.coerce.number().int().min(10).default(60_000),
  CUSTOM_DOMAINS_PER_TENANT: z.coerce.number().int().min(0).max(1000).default(5),
  /** Keeps one tenant from spending the platform's Let's Encrypt budget (300 orders / 3 h). */
  CERTIFICATE_ORDERS_PER_TENANT_PER_WEEK: z.coerce.number().int().min(1).max(1000).default(10),

  ...storageEnvSchema.shape,

  MAIL_PROVIDER: z.enum(['none', 'smtp']).default('none'),
  /** smtp://user:pass@host:port or smtps://...; the password is treated as a secret. */
  SMTP_URL: z.string().url().optional(),
  /** Send without STARTTLS (a local relay or a capture server on loopback). */
  SMTP_IGNORE_TLS: flag.default('false'),
  MAIL_FROM: z.string().optional(),

  /** Schemas kept ready at the latest template version, so a new tenant's schema is instant. */
  WARM_POOL_SIZE: z.coerce.number().int().min(0).max(10000).default(0),
  WARM_POOL_REFILL_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  /**
   * Tenant roles made ahead, in batches, for tenants to come (0: one role per onboarding and
   * per deletion, as they happen). See TenantRoleUpkeep for why.
   */
  TENANT_ROLE_RESERVE_SIZE: z.coerce.number().int().min(0).max(5000).default(100),
  /** How often the worker tops the role reserve up and drops deleted tenants' roles. */
  TENANT_ROLE_UPKEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
  /** How often the worker looks for mail the outbox still has to send. */
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(50).default(2000),
  /**
   * Test only (refused unless NODE_ENV=test): `<step>:<ms>` makes the worker wait that long
   * after the step's work and before recording it, so a crash test can kill it right there.
   */
  PROVISIONING_FAULT_HOLD: z
    .string()
    .regex(/^[a-z-]+:\d+$/, 'must be <step>:<milliseconds>')
    .optional(),
});

export type IntegrationsEnv = z.infer<typeof integrationsEnvSchema>;

export type DnsSettings =
  | { readonly provider: 'none' }
  | {
      readonly provider: 'powerdns';
      readonly zone: string;
      readonly apiUrl: string;
      readonly apiKey: Secret;
      readonly serverId: string;
    }
  | {
      readonly provider: 'route53';
      readonly zone: string;
      readonly hostedZoneId: string;
      readonly region: string;
    };

export type AcmeSettings =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      readonly directoryUrl: string;
      readonly accountEmail: string;
      readonly directoryCaPem?: string;
      readonly pollIntervalMs?: number;
      readonly renewalCheckIntervalMs: number;
      readonly expiryAlertDays: number;
    };

export type StorageSettings =
  | { readonly provider: 'none' }
  | {
      readonly provider: 's3';
      readonly bucket: string;
      readonly region: string;
      readonly endpoint?: string;
      readonly forcePathStyle: boolean;
      readonly accessKeyId?: string;
      readonly secretAccessKey?: Secret;
      readonly createBucketIfMissing: boolean;
    };

export type MailSettings =
  | { readonly provider: 'none'; readonly from: string }
  | {
      readonly provider: 'smtp';
      readonly url: Secret;
      readonly ignoreTLS: boolean;
      readonly from: string;
    };

export interface CustomDomainSettings {
  readonly dnsServers: readonly string[];
  readonly txtLabel: string;
  readonly verifyWindowMinutes: number;
  readonly verifyRetryMs: number;
  readonly perTenant: number;
  readonly certificateOrdersPerWeek: number;
}

export interface IntegrationsConfig {
  readonly dns: DnsSettings;
  readonly dnsRecord: {
    readonly type: 'A' | 'AAAA' | 'CNAME';
    readonly target: string;
    readonly ttl: number;
  };
  readonly acme: AcmeSettings;
  /** Set whenever ACME is on; keys are never stored unencrypted. */
  readonly certificateKey: Secret | null;
  readonly storage: StorageSettings;
  readonly mail: MailSettings;
  readonly warmPool: { readonly size: number; readonly refillIntervalMs: number };
  readonly tenantRoleReserve: { readonly size: number; readonly upkeepIntervalMs: number };
  readonly outboxPollIntervalMs: number;
  readonly customDomains: CustomDomainSettings;
  readonly faultHold: { readonly step: string; readonly ms: number } | null;
}

function requireSetting<T>(
  value: T | undefined,
  name: string,
  because: string,
  problems: string[],
): T {
  if (value === undefined || value === '') problems.push(`${name}: required when ${because}`);
  return value as T;
}

function dnsSettings(
  env: IntegrationsEnv,
  platformDomain: string,
  problems: string[],
): DnsSettings {
  const zone = (env.DNS_ZONE ?? platformDomain).toLowerCase().replace(/\.$/, '');
  if (zone !== platformDomain && !platformDomain.endsWith(`.${zone}`)) {
    problems.push(`DNS_ZONE: "${zone}" must be ${platformDomain} or one of its parent domains`);
  }
  switch (env.DNS_PROVIDER) {
    case 'none':
      return { provider: 'none' };
    case 'powerdns': {
      const because = 'DNS_PROVIDER=powerdns';
      return {
        provider: 'powerdns',
        zone,
        apiUrl: requireSetting(env.POWERDNS_API_URL, 'POWERDNS_API_URL', because, problems),
        apiKey: new Secret(
          requireSetting(env.POWERDNS_API_KEY, 'POWERDNS_API_KEY', because, problems),
        ),
        serverId: env.POWERDNS_SERVER_ID,
      };
    }
    case 'route53':
      return {
        provider: 'route53',
        zone,
        hostedZoneId: requireSetting(
          env.ROUTE53_HOSTED_ZONE_ID,
          'ROUTE53_HOSTED_ZONE_ID',
          'DNS_PROVIDER=route53',
          problems,
        ),
        region: env.AWS_REGION,
      };
  }
}

function dnsRecord(env: IntegrationsEnv, problems: string[]): IntegrationsConfig['dnsRecord'] {
  const target = env.DNS_RECORD_TARGET.toLowerCase().replace(/\.$/, '');
  const family = isIP(target);
  if (family === 4) return { type: 'A', target, ttl: env.DNS_RECORD_TTL };
  if (family === 6) return { type: 'AAAA', target, ttl: env.DNS_RECORD_TTL };
  const labels = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
  // An all-numeric last label is no hostname (RFC 3696 §2) but a mistyped address such as
  // 256.1.1.1 or 10.0.0: taken as a CNAME it would point every tenant at a name that never
  // resolves.
  if (!labels.test(target) || /\.\d+$/.test(target)) {
    problems.push('DNS_RECORD_TARGET: must be an IP address or a DNS hostname');
  }
  return { type: 'CNAME', target, ttl: env.DNS_RECORD_TTL };
}

function acmeSettings(env: IntegrationsEnv, dns: DnsSettings, problems: string[]): AcmeSettings {
  if (!env.ACME_DIRECTORY_URL) return { enabled: false };
  const because = 'ACME_DIRECTORY_URL is set';
  const directoryUrl = LETS_ENCRYPT_DIRECTORIES[env.ACME_DIRECTORY_URL] ?? env.ACME_DIRECTORY_URL;
  if (!/^https:\/\//.test(directoryUrl)) {
    problems.push(
      'ACME_DIRECTORY_URL: must be an https:// URL, letsencrypt or letsencrypt-staging',
    );
  }
  // Platform subdomains are covered by a wildcard certificate, which ACME issues only by DNS-01.
  if (dns.provider === 'none')
    problems.push(`DNS_PROVIDER: must not be none when ${because} (DNS-01)`);
  let directoryCaPem: string | undefined;
  if (env.ACME_CA_FILE) {
    try {
      directoryCaPem = readFileSync(env.ACME_CA_FILE, 'utf8');
    } catch {
      problems.push(`ACME_CA_FILE: cannot read ${env.ACME_CA_FILE}`);
    }
  }
  return {
    enabled: true,
    directoryUrl,
    accountEmail: requireSetting(env.ACME_ACCOUNT_EMAIL, 'ACME_ACCOUNT_EMAIL', because, problems),
    ...(directoryCaPem && { directoryCaPem }),
    ...(env.ACME_POLL_INTERVAL_MS && { pollIntervalMs: env.ACME_POLL_INTERVAL_MS }),
    renewalCheckIntervalMs: env.CERTIFICATE_RENEWAL_CHECK_INTERVAL_MS,
    expiryAlertDays: env.CERTIFICATE_EXPIRY_ALERT_DAYS,
  };
}

function certificateKey(
  env: IntegrationsEnv,
  acme: AcmeSettings,
  problems: string[],
): Secret | null {
  const value = env.CERTIFICATE_ENCRYPTION_KEY;
  if (!value) {
    if (acme.enabled)
      problems.push('CERTIFICATE_ENCRYPTION_KEY: required when ACME_DIRECTORY_URL is set');
    return null;
  }
  const bytes = /^[0-9a-f]{64}$/i.test(value) ? 32 : Buffer.from(value, 'base64').length;
  if (bytes !== 32) {
    problems.push('CERTIFICATE_ENCRYPTION_KEY: must be 64 hex characters or base64 of 32 bytes');
  }
  return new Secret(value);
}

export function storageSettings(env: StorageEnv, problems: string[]): StorageSettings {
  if (env.STORAGE_PROVIDER === 'none') return { provider: 'none' };
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    problems.push(
      'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both or neither (then the AWS default chain)',
    );
  }
  return {
    provider: 's3',
    bucket: requireSetting(env.S3_BUCKET, 'S3_BUCKET', 'STORAGE_PROVIDER=s3', problems),
    region: env.S3_REGION,
    ...(env.S3_ENDPOINT && { endpoint: env.S3_ENDPOINT }),
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    ...(env.S3_ACCESS_KEY_ID && { accessKeyId: env.S3_ACCESS_KEY_ID }),
    ...(env.S3_SECRET_ACCESS_KEY && { secretAccessKey: new Secret(env.S3_SECRET_ACCESS_KEY) }),
    createBucketIfMissing: env.S3_CREATE_BUCKET,
  };
}

function mailSettings(
  env: IntegrationsEnv,
  platformDomain: string,
  problems: string[],
): MailSettings {
  const from = env.MAIL_FROM ?? `Platform <no-reply@${platformDomain}>`;
  if (env.MAIL_PROVIDER === 'none') return { provider: 'none', from };
  const url = requireSetting(env.SMTP_URL, 'SMTP_URL', 'MAIL_PROVIDER=smtp', problems);
  if (url && !/^smtps?:\/\//.test(url))
    problems.push('SMTP_URL: must be an smtp:// or smtps:// URL');
  return { provider: 'smtp', url: new Secret(url ?? ''), ignoreTLS: env.SMTP_IGNORE_TLS, from };
}

function faultHold(
  env: IntegrationsEnv,
  nodeEnv: string,
  problems: string[],
): IntegrationsConfig['faultHold'] {
  if (!env.PROVISIONING_FAULT_HOLD) return null;
  if (nodeEnv !== 'test') {
    problems.push('PROVISIONING_FAULT_HOLD: only allowed with NODE_ENV=test');
    return null;
  }
  const [step, ms] = env.PROVISIONING_FAULT_HOLD.split(':');
  return { step, ms: Number(ms) };
}

function customDomainSettings(env: IntegrationsEnv, problems: string[]): CustomDomainSettings {
  const dnsServers = env.CUSTOM_DOMAIN_DNS_SERVERS.split(',')
    .map((server) => server.trim())
    .filter(Boolean);
  for (const server of dnsServers) {
    const [host, port] = server.startsWith('[') ? [server, undefined] : server.split(':');
    if (!isIP(host.replace(/^\[|\]$/g, '')) || (port !== undefined && !/^\d{1,5}$/.test(port))) {
      problems.push(`CUSTOM_DOMAIN_DNS_SERVERS: "${server}" must be ip or ip:port`);
    }
  }
  return {
    dnsServers,
    txtLabel: env.CUSTOM_DOMAIN_TXT_LABEL,
    verifyWindowMinutes: env.CUSTOM_DOMAIN_VERIFY_WINDOW_MINUTES,
    verifyRetryMs: env.CUSTOM_DOMAIN_VERIFY_RETRY_MS,
    perTenant: env.CUSTOM_DOMAINS_PER_TENANT,
    certificateOrdersPerWeek: env.CERTIFICATE_ORDERS_PER_TENANT_PER_WEEK,
  };
}

export function integrationsConfig(
  env: IntegrationsEnv,
  common: { platformDomain: string; nodeEnv: string },
  problems: string[],
): IntegrationsConfig {
  const dns = dnsSettings(env, common.platformDomain, problems);
  const acme = acmeSettings(env, dns, problems);
  return {
    dns,
    dnsRecord: dnsRecord(env, problems),
    acme,
    certificateKey: certificateKey(env, acme, problems),
    storage: storageSettings(env, problems),
    mail: mailSettings(env, common.platformDomain, problems),
    warmPool: { size: env.WARM_POOL_SIZE, refillIntervalMs: env.WARM_POOL_REFILL_INTERVAL_MS },
    tenantRoleReserve: {
      size: env.TENANT_ROLE_RESERVE_SIZE,
      upkeepIntervalMs: env.TENANT_ROLE_UPKEEP_INTERVAL_MS,
    },
    outboxPollIntervalMs: env.OUTBOX_POLL_INTERVAL_MS,
    customDomains: customDomainSettings(env, problems),
    faultHold: faultHold(env, common.nodeEnv, problems),
  };
}
