/**
 * Server (1), the baseline: the same NestJS endpoint without tenancy. Same adapter (Fastify)
 * and HTTP defaults (`applyFastifyHttpDefaults`: pino logger, JSON body parser, strict
 * validation pipe), same
 * observability module (request logging and the HTTP metrics middleware), same query DTO, the
 * same kind of HS256 bearer token verified the same way (jsonwebtoken with a KeyObject, and the
 * same cache of tokens already verified), and the same SQL through one shared pg Pool of the
 * same size. What it lacks is exactly what tenancy adds: no Host resolution, no
 * tenant context, no audience check, no BEGIN/SET LOCAL/COMMIT around the statement; it reads
 * one fixed schema, named in the table reference.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { PrivateKeyCipher } from '@platform/acme';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Query,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { verify, type JwtPayload } from 'jsonwebtoken';
import { FastifyAdapter, RouteSchema, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { Pool } from 'pg';
import { DATA_PLANE_CONFIG, PlatformConfigModule, type DataPlaneConfig } from '@platform/config';
import { applyFastifyHttpDefaults, fastifyServerOptions } from '@platform/http';
import { ObservabilityModule, READINESS_CHECKS, requestIdFor } from '@platform/observability';
import { quoteTenantSchema } from '@platform/tenancy';
import { kidOf } from '../../apps/data-plane/src/auth/tenant-key-set';
import { VerifiedTokenCache } from '../../apps/data-plane/src/auth/verified-token.cache';
import { PageQuery } from '../../apps/data-plane/src/common/page.query';
import {
  PROJECT_LIST_RESPONSE_SCHEMA,
  type ProjectView,
} from '../../apps/data-plane/src/projects/project.dto';

/** The issuer the data plane puts in and demands of its tokens (access-token.service.ts). */
const TOKEN_ISSUER = 'tenancy-data-plane';
const BASELINE_POOL = Symbol('BaselinePool');
const BASELINE_SCHEMA = Symbol('BaselineSchema');

/**
 * Verifies the token the way the data plane does (the key named by the token's kid, jsonwebtoken
 * with a KeyObject, synchronously, tokens already verified answered from the same
 * VerifiedTokenCache), minus the tenant: with no tenant there is no audience to demand and no
 * tenant whose keys to pick from (all current keys are loaded once at start), and the cache
 * scope is the same for every request.
 */
@Injectable()
class BaselineAuthGuard implements CanActivate, OnModuleInit {
  private readonly keys = new Map<string, KeyObject>();
  private readonly verified = new VerifiedTokenCache<{ sub: string }>(10_000);

  constructor(
    @Inject(DATA_PLANE_CONFIG) private readonly config: DataPlaneConfig,
    @Inject(BASELINE_POOL) private readonly pool: Pool,
  ) {}

  async onModuleInit(): Promise<void> {
    const cipher = PrivateKeyCipher.fromSecret(this.config.signingKeys.encryptionKey.reveal());
    const { rows } = await this.pool.query<{ kid: string; secret_sealed: string }>(
      'SELECT kid, secret_sealed FROM platform.tenant_signing_keys WHERE retire_at IS NULL',
    );
    for (const row of rows) {
      this.keys.set(
        row.kid,
        createSecretKey(Buffer.from(cipher.decrypt(row.secret_sealed), 'base64')),
      );
    }
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const match = /^Bearer ([A-Za-z0-9._-]{10,4096})$/.exec(request.headers.authorization ?? '');
    if (!match) throw new UnauthorizedException();
    if (this.verified.get('', match[1])) return true;
    const key = this.keys.get(kidOf(match[1]) ?? '');
    if (!key) throw new UnauthorizedException();
    let claims: string | JwtPayload;
    try {
      claims = verify(match[1], key, { algorithms: ['HS256'], issuer: TOKEN_ISSUER });
    } catch {
      throw new UnauthorizedException();
    }
    if (typeof claims !== 'object' || typeof claims.sub !== 'string') {
      throw new UnauthorizedException();
    }
    this.verified.remember('', match[1], { sub: claims.sub }, claims.exp);
    return true;
  }
}

@UseGuards(BaselineAuthGuard)
@Controller('api/projects')
class BaselineProjectsController {
  private readonly sql: string;

  constructor(
    @Inject(BASELINE_POOL) private readonly pool: Pool,
    @Inject(BASELINE_SCHEMA) schema: string,
  ) {
    this.sql =
      `SELECT id, name, description, created_by AS "createdBy", created_at AS "createdAt" ` +
      `FROM ${quoteTenantSchema(schema)}.projects ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`;
  }

  @Get()
  @RouteSchema({ response: PROJECT_LIST_RESPONSE_SCHEMA })
  async list(@Query() query: PageQuery): Promise<{ items: ProjectView[] }> {
    const result = await this.pool.query<ProjectView>(this.sql, [query.limit, query.offset]);
    return { items: result.rows };
  }
}

@Injectable()
class PoolCloser implements OnApplicationShutdown {
  constructor(@Inject(BASELINE_POOL) private readonly pool: Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

@Module({})
class BaselineModule {
  static forRoot(config: DataPlaneConfig, schema: string): DynamicModule {
    return {
      module: BaselineModule,
      imports: [
        PlatformConfigModule.forRoot(DATA_PLANE_CONFIG, config),
        ObservabilityModule.forRoot({
          service: 'baseline',
          readinessChecks: { provide: READINESS_CHECKS, useValue: [] },
        }),
      ],
      controllers: [BaselineProjectsController],
      providers: [
        BaselineAuthGuard,
        PoolCloser,
        { provide: BASELINE_SCHEMA, useValue: schema },
        {
          provide: BASELINE_POOL,
          useFactory: () =>
            new Pool({
              connectionString: config.databaseUrl.reveal(),
              max: config.pool.size,
              application_name: 'bench-baseline',
            }),
        },
      ],
    };
  }
}

export async function createBaselineApp(
  config: DataPlaneConfig,
  schema: string,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    BaselineModule.forRoot(config, schema),
    new FastifyAdapter(fastifyServerOptions(requestIdFor)),
    { bufferLogs: true, bodyParser: false },
  );
  applyFastifyHttpDefaults(app, { bodyLimit: config.bodyLimit, ...config.http });
  return app;
}
