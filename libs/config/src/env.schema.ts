import { z } from 'zod';
import { integrationsEnvSchema } from './integrations.config';

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

const hostnameRule =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

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
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  /**
   * Split each cluster's tenant traffic over this many pools (of DATABASE_POOL_SIZE / lanes
   * connections), a tenant always in the same one, so each backend caches fewer schemas.
   */
  DATABASE_POOL_LANES: z.coerce.number().int().min(1).max(64).default(5),
  /** Recycle pooled connections: PostgreSQL backends cache every relation they touch, unbounded. */
  DATABASE_CONNECTION_MAX_USES: z.coerce.number().int().min(1).default(5000),
  DATABASE_CONNECTION_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(1).default(900),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(15000),
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
  /** Signs data-plane access tokens. Generated per process in development when unset. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
});

export type SharedEnv = z.infer<typeof sharedEnvSchema>;

export const controlPlaneEnvSchema = sharedEnvSchema
  .extend({
    CONTROL_PLANE_PORT: port.default(3001),
    CONTROL_PLANE_HOST: z.string().default('0.0.0.0'),
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
});
