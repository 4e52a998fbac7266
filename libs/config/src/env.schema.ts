import { z } from 'zod';
import { integrationsEnvSchema, storageEnvSchema } from './integrations.config';

const port = z.coerce.number().int().min(0).max(65535);

const postgresUrl = z
  .string()
  .url()
  .refine((value) => /^postgres(ql)?:$/.test(new URL(value).protocol), {
    message: 'must be a postgres:// URL',
  });

const redisUrl = z
  .string()
  .url()
  .refine((value) => /^rediss?:$/.test(new URL(value).protocol), {
    message: 'must be a redis:// URL',
  });

/** 64 hex characters or base64 of exactly 32 bytes, as PrivateKeyCipher.fromSecret accepts. */
function isAes256Key(value: string): boolean {
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return true;
  return (
    /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) &&
    Buffer.from(trimmed, 'base64').length === 32 &&
    Buffer.from(trimmed, 'base64').toString('base64') === trimmed
  );
}

const hostnameRule =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `https://app.example.com` exactly as a browser sends it in `Origin`: no path, no wildcard. */
function isExactOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    // `*` is not a wildcard here (matching is exact), so it is refused rather than misread.
    return /^https?:$/.test(url.protocol) && url.origin === value && !value.includes('*');
  } catch {
    return false;
  }
}

/** Settings both apps read: where the registry lives, Redis, the platform's domain. */
export const sharedEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: postgresUrl.default('postgres://postgres@127.0.0.1:5432/tenancy'),
  /**
   * Extra PostgreSQL clusters that can hold tenant schemas, as `name=url` pairs separated by
   * commas. The registry always lives on DATABASE_URL, which is also the cluster named `main`.
   */
  TENANT_CLUSTERS: z.string().default(''),
  DEFAULT_TENANT_CLUSTER: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,30}$/)
    .default('main'),
  /**
   * The data plane's own PostgreSQL login (same host and database as each cluster's URL). It
   * owns nothing and may only switch into tenant roles; the control plane creates it when it can.
   */
  DATA_PLANE_DATABASE_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL role name')
    .refine((name) => !/^(t_|pg_)/.test(name), { message: 'must not start with t_ or pg_' })
    .default('platform_data_plane'),
  DATA_PLANE_DATABASE_PASSWORD: z.string().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  /**
   * Split each cluster's tenant traffic over this many pools (of DATABASE_POOL_SIZE / lanes
   * connections), a tenant always in the same one, so each backend caches fewer schemas.
   */
  DATABASE_POOL_LANES: z.coerce.number().int().min(1).max(64).default(5),
  /**
   * Recycle pooled connections: PostgreSQL backends cache every relation they touch, unbounded.
   * The lanes bound how many schemas a backend meets (5,000 random requests over a lane of 2,000
   * tenants already meet 92 % of them), so recycling by uses saves little memory and costs the
   * new backend 0.5-2 ms of catalog loading per tenant: rarely, and by lifetime as well.
   */
  DATABASE_CONNECTION_MAX_USES: z.coerce.number().int().min(1).default(100_000),
  DATABASE_CONNECTION_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(1).default(900),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(15000),
  /**
   * Tenant requests enter their tenant with a statement each pooled connection prepares once.
   * false behind a pooler that mixes server sessions (PgBouncer in transaction mode before 1.21,
   * or later ones without max_prepared_statements); met anyway, the data plane turns it off.
   */
  DATABASE_PREPARED_STATEMENTS: z
    .enum(['true', 'false', '1', '0'])
    .transform((value) => value === 'true' || value === '1')
    .default('true'),
  /**
   * With DATABASE_PREPARED_STATEMENTS, each pooled connection also keeps up to this many of the
   * tenants' own statements prepared (one per statement and tenant: ~20 KB of the backend's
   * memory each), so PostgreSQL parses them once per connection; past it they go unnamed.
   */
  DATABASE_PREPARED_STATEMENTS_PER_CONNECTION: z.coerce.number().int().min(0).default(500),
  /** A schema migration waits at most this long for a lock (another runner, app traffic). */
  MIGRATION_LOCK_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  MIGRATION_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(600000),
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  /** Prefix for every Redis key and channel, so two deployments (or test runs) can share a Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9:_-]{1,64}$/)
    .default('tenancy'),
  PLATFORM_DOMAIN: z
    .string()
    .transform((value) => value.toLowerCase().replace(/\.$/, ''))
    .refine((value) => hostnameRule.test(value), { message: 'must be a DNS hostname' })
    .default('localhost'),
  /** Browser origins allowed to call this app cross-origin (exact, comma-separated). Empty: none. */
  CORS_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .refine((origins) => origins.every(isExactOrigin), {
      message: 'must be comma-separated origins like https://app.example.com (no path, no *)',
    }),
  /** A handler that has not answered after this long gets 503; also the server's header/body timeouts. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** Access-token lifetime: short, since clients renew with a refresh token. */
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).default(900),
  /**
   * Encrypts the tenants' token-signing keys at rest (AES-256-GCM); both apps need the same one.
   * A fixed development key when unset (refused in production).
   */
  SIGNING_KEY_ENCRYPTION_KEY: z
    .string()
    .refine(isAes256Key, {
      message: 'must be 64 hex characters or the base64 encoding of exactly 32 bytes',
    })
    .optional(),
});

export type SharedEnv = z.infer<typeof sharedEnvSchema>;

export const controlPlaneEnvSchema = sharedEnvSchema
  .extend({
    CONTROL_PLANE_PORT: port.default(3001),
    CONTROL_PLANE_HOST: z.string().default('0.0.0.0'),
    CONTROL_PLANE_BODY_LIMIT: z
      .string()
      .regex(/^\d+(kb|mb)$/)
      .default('64kb'),
    /** The worker's own HTTP port: health and metrics only. */
    WORKER_PORT: port.default(3002),
    PLATFORM_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    /** Public URL of the data plane used in invite links; derived from the platform domain if unset. */
    DATA_PLANE_PUBLIC_URL: z.string().url().optional(),
    DATA_PLANE_PORT: port.default(3000),
    /**
     * Bull job lock: a job whose worker stops renewing it (killed, hung) is handed to another
     * worker after this long. Shorter means faster recovery and more Redis traffic.
     */
    QUEUE_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30000),
    PROVISIONING_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    PROVISIONING_BACKOFF_MS: z.coerce.number().int().min(10).default(2000),
    INVITE_TTL_HOURS: z.coerce.number().int().min(1).default(72),
    PASSWORD_RESET_TTL_MINUTES: z.coerce.number().int().min(1).max(10080).default(60),
    /** After a rotation the previous signing key still verifies this long (default: JWT_TTL_SECONDS). */
    SIGNING_KEY_ROTATION_OVERLAP_SECONDS: z.coerce.number().int().min(0).optional(),
    /**
     * The PLATFORM_ADMIN_TOKEN bearer acts as an `admin` operator. Turn it off once a real admin
     * exists (`npm run cli -- operators:create --role admin`).
     */
    BOOTSTRAP_TOKEN_ENABLED: z
      .enum(['true', 'false', '1', '0'])
      .transform((value) => value === 'true' || value === '1')
      .default('true'),
    /** Operator sessions end this long after sign-in, whatever happens ... */
    OPERATOR_SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(12),
    /** ... or after this long without a request. */
    OPERATOR_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(43200).default(60),
    /** Failed sign-ins allowed per account and per client IP within the window, then 429. */
    LOGIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
    LOGIN_FAILURES_PER_IP: z.coerce.number().int().min(1).default(20),
    LOGIN_FAILURE_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  })
  .merge(integrationsEnvSchema);

export const dataPlaneEnvSchema = sharedEnvSchema.extend({
  DATA_PLANE_PORT: port.default(3000),
  DATA_PLANE_HOST: z.string().default('0.0.0.0'),
  /** Proxies whose X-Forwarded-Host is believed. Empty: only the Host header selects a tenant. */
  TRUSTED_PROXIES: z.string().default(''),
  TENANT_CACHE_SIZE: z.coerce.number().int().min(1).default(50000),
  TENANT_CACHE_TTL_MS: z.coerce.number().int().min(100).default(30000),
  /** Refresh tokens expire this long after they are issued (each use issues a new one). */
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** How long an unknown host is remembered, so a flood of bad hosts does not reach the registry. */
  UNKNOWN_HOST_CACHE_TTL_MS: z.coerce.number().int().min(0).default(1000),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)$/)
    .default('100kb'),
  /** Serve HTTPS here, choosing each tenant's certificate by SNI. Unset: HTTP only. */
  DATA_PLANE_HTTPS_PORT: port.optional(),
  /** Decrypts the certificates' keys (the control plane's CERTIFICATE_ENCRYPTION_KEY). */
  CERTIFICATE_ENCRYPTION_KEY: z.string().optional(),
  /** A loaded certificate is re-read after this long (renewals also invalidate it at once). */
  CERTIFICATE_CACHE_TTL_MS: z.coerce.number().int().min(100).default(300_000),
  /** With HTTPS on, plain-HTTP requests to a tenant are redirected (ACME challenges excepted). */
  HTTPS_REDIRECT: z
    .enum(['true', 'false', '1', '0'])
    .transform((value) => value === 'true' || value === '1')
    .default('true'),
  /** Per-tenant and per-user request limits on /api (plan defaults, per-tenant overrides). */
  RATE_LIMITS_ENABLED: z
    .enum(['true', 'false', '1', '0'])
    .transform((value) => value === 'true' || value === '1')
    .default('true'),
  /** How long a refusal to a tenant already over its limit is held before it is sent. */
  RATE_LIMIT_REFUSAL_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(250),
  /**
   * Largest tenant file `PUT /api/files/:name` accepts (413 beyond). Uploads are held in memory
   * while they are checked and written, hence the 64 MiB ceiling (the S3 port's buffered limit).
   */
  FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .default(10 * 1024 * 1024),
  // The same STORAGE_PROVIDER / S3_* as the control plane's: tenant files go to its bucket.
  ...storageEnvSchema.shape,
});
