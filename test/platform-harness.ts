/**
 * Starts the real platform for e2e tests: its own database and Redis key prefix, the control
 * plane, a worker and the data plane in this process, each on a port it picks itself, so a
 * running dev instance never collides with a test run. `stop()` removes everything it made.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { loadControlPlaneConfig, loadDataPlaneConfig } from '@platform/config';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import { createControlPlaneApp, createWorker } from '../apps/control-plane/src/control-plane.app';
import { createDataPlaneApp } from '../apps/data-plane/src/data-plane.app';
import { DataPlaneHttpsServer } from '../apps/data-plane/src/tls/data-plane-https.server';

export const PLATFORM_DOMAIN = 'platform.test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface PlatformOptions {
  /** Where the data plane connects (e.g. a PgBouncer in front of the test database). */
  readonly dataPlaneDatabaseUrl?: (database: TestDatabase) => Promise<string> | string;
  readonly dataPlaneEnv?: Record<string, string>;
  readonly controlPlaneEnv?: Record<string, string>;
  /** Start without a worker (tenants then stay `provisioning`). */
  readonly withoutWorker?: boolean;
  /**
   * The data plane's plain-HTTP port on 127.0.0.1 (default: one the OS picks), e.g. Pebble's
   * `httpChallengePort`, where its HTTP-01 validation connects.
   */
  readonly dataPlanePort?: number;
}

export interface TenantSummary {
  id: string;
  slug: string;
  schema: string;
  status: string;
}

export interface RunningPlatform {
  readonly database: TestDatabase;
  readonly adminToken: string;
  readonly redisPrefix: string;
  /**
   * The settings the control plane (and its in-process worker) started with: what a worker in
   * its own process needs to join the same platform.
   */
  readonly controlPlaneEnv: Readonly<Record<string, string>>;
  readonly controlPlane: INestApplication;
  /** The in-process worker (null with `withoutWorker`), e.g. to drive its scheduled tasks. */
  readonly worker: INestApplication | null;
  readonly dataPlane: INestApplication;
  readonly dataPlaneUrl: string;
  /** The data plane's HTTPS port on 127.0.0.1, when `dataPlaneEnv` sets DATA_PLANE_HTTPS_PORT. */
  readonly dataPlaneHttpsPort: number | null;
  readonly controlPlaneUrl: string;
  /** supertest against the control plane, with the operator token already set. */
  api(): ReturnType<typeof request>;
  hostOf(slug: string): string;
  /** POST /v1/tenants and wait until the tenant is active. */
  createTenant(slug: string, extra?: Record<string, unknown>): Promise<TenantSummary>;
  waitForStatus(idOrSlug: string, status: string, timeoutMs?: number): Promise<TenantSummary>;
  /** Creates a user with a password and returns an access token issued on the tenant's host. */
  signIn(slug: string, email?: string, role?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions = {}): Promise<RunningPlatform> {
  const database = await createTestDatabase('e2e');
  const adminToken = randomBytes(24).toString('hex');
  const redisPrefix = `e2e-${randomBytes(6).toString('hex')}`;
  const shared = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    PLATFORM_DOMAIN,
    SIGNING_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  };
  const controlPlaneEnv: Record<string, string> = {
    ...shared,
    CONTROL_PLANE_PORT: '0',
    CONTROL_PLANE_HOST: '127.0.0.1',
    PLATFORM_ADMIN_TOKEN: adminToken,
    PROVISIONING_ATTEMPTS: '2',
    PROVISIONING_BACKOFF_MS: '50',
    // Roles one at a time, as they are needed: suites that check a role right after an action
    // need no worker round. tenant-role-reserve.e2e-spec.ts covers the batched default.
    TENANT_ROLE_RESERVE_SIZE: '0',
    ...options.controlPlaneEnv,
  };
  const controlPlaneConfig = loadControlPlaneConfig(controlPlaneEnv);
  const controlPlane = await createControlPlaneApp(controlPlaneConfig);
  await controlPlane.listen(0, '127.0.0.1');
  const worker: INestApplication | null = options.withoutWorker
    ? null
    : await createWorker(controlPlaneConfig);
  const dataPlaneDatabaseUrl = options.dataPlaneDatabaseUrl
    ? await options.dataPlaneDatabaseUrl(database)
    : database.url;
  const dataPlaneConfig = loadDataPlaneConfig({
    ...shared,
    DATABASE_URL: dataPlaneDatabaseUrl,
    DATA_PLANE_PORT: '0',
    DATA_PLANE_HOST: '127.0.0.1',
    ...options.dataPlaneEnv,
  });
  const dataPlane = await createDataPlaneApp(dataPlaneConfig);
  await dataPlane.listen(options.dataPlanePort ?? 0, '127.0.0.1');
  const dataPlaneHttpsPort = dataPlaneConfig.tls ? dataPlane.get(DataPlaneHttpsServer).port : null;

  const urlOf = (app: INestApplication) => {
    const address = (app.getHttpServer() as Server).address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  };
  const controlPlaneUrl = urlOf(controlPlane);
  const dataPlaneUrl = urlOf(dataPlane);
  const api = () => request(controlPlaneUrl);

  const platform: RunningPlatform = {
    database,
    adminToken,
    redisPrefix,
    controlPlaneEnv,
    controlPlane,
    worker,
    dataPlane,
    controlPlaneUrl,
    dataPlaneUrl,
    dataPlaneHttpsPort,
    api,
    hostOf: (slug) => `${slug}.${PLATFORM_DOMAIN}`,

    async waitForStatus(idOrSlug, status, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const response = await api()
          .get(`/v1/tenants/${idOrSlug}`)
          .set('Authorization', `Bearer ${adminToken}`);
        if (response.status === 200 && response.body.status === status) {
          return response.body as TenantSummary;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `tenant ${idOrSlug} did not become ${status}: ${response.status} ${JSON.stringify(response.body)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },

    async createTenant(slug, extra = {}) {
      const response = await api()
        .post('/v1/tenants')
        .set('Authorization', `Bearer ${adminToken}`)
        .send({ slug, name: `Tenant ${slug}`, adminEmail: `admin@${slug}.test`, ...extra });
      if (response.status !== 202) {
        throw new Error(`create ${slug}: ${response.status} ${JSON.stringify(response.body)}`);
      }
      return platform.waitForStatus(response.body.id as string, 'active');
    },

    async signIn(slug, email = `user@${slug}.test`, role = 'member') {
      const password = `pw-${slug}-${randomBytes(8).toString('hex')}`;
      const created = await api()
        .post(`/v1/tenants/${slug}/users`)
        .set('Authorization', `Bearer ${adminToken}`)
        .send({ email, role, password });
      if (created.status !== 201) {
        throw new Error(`user for ${slug}: ${created.status} ${JSON.stringify(created.body)}`);
      }
      const login = await request(dataPlaneUrl)
        .post('/api/auth/login')
        .set('Host', platform.hostOf(slug))
        .send({ email, password });
      if (login.status !== 200) {
        throw new Error(`login on ${slug}: ${login.status} ${JSON.stringify(login.body)}`);
      }
      return login.body.accessToken as string;
    },

    async stop() {
      await dataPlane.close();
      await worker?.close();
      await controlPlane.close();
      await database.drop();
      const redis = new Redis(REDIS_URL);
      try {
        const keys = await redis.keys(`${redisPrefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
  return platform;
}
