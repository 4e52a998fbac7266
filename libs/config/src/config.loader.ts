import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { Secret } from './secret';
import {
  integrationsConfig,
  storageSettings,
  type IntegrationsConfig,
  type StorageSettings,
} from './integrations.config';
import { controlPlaneEnvSchema, dataPlaneEnvSchema, type SharedEnv } from './env.schema';

export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

function parseEnv<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigValidationError(
      result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  return result.data as z.infer<S>;
}

export interface ClusterConfig {
  readonly name: string;
  readonly url: Secret;
}

function parseClusters(env: SharedEnv): ClusterConfig[] {
  const clusters: ClusterConfig[] = [{ name: 'main', url: new Secret(env.DATABASE_URL) }];
  for (const pair of env.TENANT_CLUSTERS.split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    const url = pair.slice(separator + 1);
    if (
      separator < 1 ||
      !/^[a-z][a-z0-9_-]{0,30}$/.test(name) ||
      !/^postgres(ql)?:\/\//.test(url)
    ) {
      throw new ConfigValidationError([
        `TENANT_CLUSTERS: "${name || pair.slice(0, 20)}" must be name=postgres://... (name: a-z, 0-9, _ or -)`,
      ]);
    }
    if (clusters.some((cluster) => cluster.name === name)) {
      throw new ConfigValidationError([`TENANT_CLUSTERS: cluster "${name}" is defined twice`]);
    }
    clusters.push({ name, url: new Secret(url) });
  }
  if (!clusters.some((cluster) => cluster.name === env.DEFAULT_TENANT_CLUSTER)) {
    throw new ConfigValidationError([
      `DEFAULT_TENANT_CLUSTER: "${env.DEFAULT_TENANT_CLUSTER}" is not a configured cluster`,
    ]);
  }
  return clusters;
}

/**
 * Not a secret: it lets a laptop start without configuration. Production refuses to start on
 * it, and the apps warn whenever it is in use.
 */
const DEVELOPMENT_SIGNING_KEY_ENCRYPTION_KEY =
  'de7e10b3e0de7e10b3e0de7e10b3e0de7e10b3e0de7e10b3e0de7e10b3e0de7e';

function signingKeySettings(env: SharedEnv, problems: string[]) {
  if (env.SIGNING_KEY_ENCRYPTION_KEY) {
    return { encryptionKey: new Secret(env.SIGNING_KEY_ENCRYPTION_KEY), developmentKey: false };
  }
  if (env.NODE_ENV === 'production') {
    problems.push('SIGNING_KEY_ENCRYPTION_KEY: required in production');
  }
  return {
    encryptionKey: new Secret(DEVELOPMENT_SIGNING_KEY_ENCRYPTION_KEY),
    developmentKey: true,
  };
}

export interface DatabaseLogin {
  readonly user: string;
  readonly password: Secret | null;
}

/** The same server and database as `url`, signed in as `login`. */
export function withLogin(url: Secret, login: DatabaseLogin): Secret {
  const parsed = new URL(url.reveal());
  parsed.username = encodeURIComponent(login.user);
  parsed.password = login.password ? encodeURIComponent(login.password.reveal()) : '';
  return new Secret(parsed.toString());
}

function commonConfig(env: SharedEnv, problems: string[]) {
  return {
    nodeEnv: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    databaseUrl: new Secret(env.DATABASE_URL),
    clusters: parseClusters(env),
    dataPlaneLogin: {
      user: env.DATA_PLANE_DATABASE_USER,
      password: env.DATA_PLANE_DATABASE_PASSWORD
        ? new Secret(env.DATA_PLANE_DATABASE_PASSWORD)
        : null,
    },
    defaultTenantCluster: env.DEFAULT_TENANT_CLUSTER,
    pool: {
      size: env.DATABASE_POOL_SIZE,
      lanes: env.DATABASE_POOL_LANES,
      maxUses: env.DATABASE_CONNECTION_MAX_USES,
      maxLifetimeSeconds: env.DATABASE_CONNECTION_MAX_LIFETIME_SECONDS,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
      preparedStatementsPerConnection: env.DATABASE_PREPARED_STATEMENTS_PER_CONNECTION,
    },
    migrations: {
      lockTimeoutMs: env.MIGRATION_LOCK_TIMEOUT_MS,
      statementTimeoutMs: env.MIGRATION_STATEMENT_TIMEOUT_MS,
    },
    redisUrl: new Secret(env.REDIS_URL),
    redisPrefix: env.REDIS_PREFIX,
    platformDomain: env.PLATFORM_DOMAIN,
    jwt: { ttlSeconds: env.JWT_TTL_SECONDS },
    http: {
      corsAllowedOrigins: env.CORS_ALLOWED_ORIGINS,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    },
    /** Tenants' token-signing keys: how they are sealed in the registry. */
    signingKeys: signingKeySettings(env, problems),
  };
}

export type CommonConfig = ReturnType<typeof commonConfig>;

export interface ControlPlaneConfig extends CommonConfig {
  readonly port: number;
  readonly host: string;
  readonly bodyLimit: string;
  readonly workerPort: number;
  readonly adminToken: Secret;
  /** True when the admin token was generated for this development process. */
  readonly adminTokenGenerated: boolean;
  readonly dataPlanePublicUrl: string;
  readonly provisioning: { attempts: number; backoffMs: number };
  readonly queueLockDurationMs: number;
  readonly inviteTtlHours: number;
  readonly passwordResetTtlMinutes: number;
  /** How long the previous signing key keeps verifying after a rotation. */
  readonly signingKeyRotationOverlapSeconds: number;
  readonly integrations: IntegrationsConfig;
  readonly operators: OperatorSettings;
}

/** Operator sign-in: the bootstrap token, session lifetime and login throttling. */
export interface OperatorSettings {
  readonly bootstrapTokenEnabled: boolean;
  readonly sessionTtlHours: number;
  readonly sessionIdleMinutes: number;
  readonly loginThrottle: {
    readonly perAccount: number;
    readonly perIp: number;
    readonly windowSeconds: number;
  };
}

export interface DataPlaneConfig extends CommonConfig {
  readonly port: number;
  readonly host: string;
  readonly trustedProxies: readonly string[];
  readonly tenantCache: { size: number; ttlMs: number; unknownHostTtlMs: number };
  readonly bodyLimit: string;
  /** Request limits on /api per tenant and per user (RATE_LIMITS_ENABLED). */
  readonly rateLimits: { readonly enabled: boolean; readonly refusalDelayMs: number };
  readonly refreshTokenTtlDays: number;
  /** Tenant files: where they go (off with STORAGE_PROVIDER=none) and the largest accepted. */
  readonly storage: StorageSettings;
  readonly fileMaxBytes: number;
  /** HTTPS with SNI; null when DATA_PLANE_HTTPS_PORT is unset. */
  readonly tls: {
    readonly port: number;
    readonly certificateKey: Secret;
    readonly cacheTtlMs: number;
    readonly redirectHttp: boolean;
  } | null;
}

export function loadControlPlaneConfig(env: NodeJS.ProcessEnv = process.env): ControlPlaneConfig {
  const parsed = parseEnv(controlPlaneEnvSchema, env);
  const problems: string[] = [];
  const common = commonConfig(parsed, problems);
  const integrations = integrationsConfig(parsed, common, problems);
  if (
    !parsed.PLATFORM_ADMIN_TOKEN &&
    parsed.NODE_ENV === 'production' &&
    parsed.BOOTSTRAP_TOKEN_ENABLED
  ) {
    problems.push(
      'PLATFORM_ADMIN_TOKEN: required in production (the bootstrap operator credential)',
    );
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  const portSuffix = parsed.DATA_PLANE_PORT === 80 ? '' : `:${parsed.DATA_PLANE_PORT}`;
  return {
    ...common,
    port: parsed.CONTROL_PLANE_PORT,
    host: parsed.CONTROL_PLANE_HOST,
    bodyLimit: parsed.CONTROL_PLANE_BODY_LIMIT,
    workerPort: parsed.WORKER_PORT,
    adminToken: new Secret(parsed.PLATFORM_ADMIN_TOKEN ?? randomBytes(24).toString('base64url')),
    // Nothing to print when the token is off: the generated one opens nothing.
    adminTokenGenerated: !parsed.PLATFORM_ADMIN_TOKEN && parsed.BOOTSTRAP_TOKEN_ENABLED,
    // With certificates on, tenants are served over HTTPS on the standard port (behind the
    // TLS-terminating proxy or the data plane's own TLS listener).
    dataPlanePublicUrl:
      parsed.DATA_PLANE_PUBLIC_URL ??
      (integrations.acme.enabled
        ? `https://{slug}.${parsed.PLATFORM_DOMAIN}`
        : `http://{slug}.${parsed.PLATFORM_DOMAIN}${portSuffix}`),
    provisioning: {
      attempts: parsed.PROVISIONING_ATTEMPTS,
      backoffMs: parsed.PROVISIONING_BACKOFF_MS,
    },
    inviteTtlHours: parsed.INVITE_TTL_HOURS,
    passwordResetTtlMinutes: parsed.PASSWORD_RESET_TTL_MINUTES,
    signingKeyRotationOverlapSeconds:
      parsed.SIGNING_KEY_ROTATION_OVERLAP_SECONDS ?? parsed.JWT_TTL_SECONDS,
    queueLockDurationMs: parsed.QUEUE_LOCK_DURATION_MS,
    integrations,
    operators: {
      bootstrapTokenEnabled: parsed.BOOTSTRAP_TOKEN_ENABLED,
      sessionTtlHours: parsed.OPERATOR_SESSION_TTL_HOURS,
      sessionIdleMinutes: parsed.OPERATOR_SESSION_IDLE_MINUTES,
      loginThrottle: {
        perAccount: parsed.LOGIN_FAILURES_PER_ACCOUNT,
        perIp: parsed.LOGIN_FAILURES_PER_IP,
        windowSeconds: parsed.LOGIN_FAILURE_WINDOW_MINUTES * 60,
      },
    },
  };
}

export function loadDataPlaneConfig(env: NodeJS.ProcessEnv = process.env): DataPlaneConfig {
  const parsed = parseEnv(dataPlaneEnvSchema, env);
  const problems: string[] = [];
  const common = commonConfig(parsed, problems);
  if (parsed.DATA_PLANE_HTTPS_PORT !== undefined && !parsed.CERTIFICATE_ENCRYPTION_KEY) {
    problems.push('CERTIFICATE_ENCRYPTION_KEY: required when DATA_PLANE_HTTPS_PORT is set');
  }
  const storage = storageSettings(parsed, problems);
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return {
    ...common,
    // The data plane never connects as the platform's owner: every cluster, its own login.
    databaseUrl: withLogin(common.databaseUrl, common.dataPlaneLogin),
    clusters: common.clusters.map((cluster) => ({
      ...cluster,
      url: withLogin(cluster.url, common.dataPlaneLogin),
    })),
    tls:
      parsed.DATA_PLANE_HTTPS_PORT === undefined
        ? null
        : {
            port: parsed.DATA_PLANE_HTTPS_PORT,
            certificateKey: new Secret(parsed.CERTIFICATE_ENCRYPTION_KEY ?? ''),
            cacheTtlMs: parsed.CERTIFICATE_CACHE_TTL_MS,
            redirectHttp: parsed.HTTPS_REDIRECT,
          },
    port: parsed.DATA_PLANE_PORT,
    host: parsed.DATA_PLANE_HOST,
    trustedProxies: parsed.TRUSTED_PROXIES.split(',')
      .map((p) => p.trim())
      .filter(Boolean),
    tenantCache: {
      size: parsed.TENANT_CACHE_SIZE,
      ttlMs: parsed.TENANT_CACHE_TTL_MS,
      unknownHostTtlMs: parsed.UNKNOWN_HOST_CACHE_TTL_MS,
    },
    bodyLimit: parsed.BODY_LIMIT,
    rateLimits: {
      enabled: parsed.RATE_LIMITS_ENABLED,
      refusalDelayMs: parsed.RATE_LIMIT_REFUSAL_DELAY_MS,
    },
    refreshTokenTtlDays: parsed.REFRESH_TOKEN_TTL_DAYS,
    storage,
    fileMaxBytes: parsed.FILE_MAX_BYTES,
  };
}
