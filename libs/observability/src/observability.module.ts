import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type Provider,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { COMMON_CONFIG, type CommonConfig } from '@platform/config';
import { HealthController } from './health.controller';
import { FastifyRouteLabels, HttpMetricsMiddleware } from './http-metrics.middleware';
import { loggingOptions } from './logging.options';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';

export interface ObservabilityOptions {
  readonly service: string;
  /** Provider of READINESS_CHECKS (a factory that gathers the app's checks). */
  readonly readinessChecks: Provider;
}

@Module({})
export class ObservabilityModule implements NestModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      imports: [
        LoggerModule.forRootAsync({
          inject: [COMMON_CONFIG],
          useFactory: (config: CommonConfig) => loggingOptions(options.service, config.logLevel),
        }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [MetricsRegistry, FastifyRouteLabels, options.readinessChecks],
      exports: [MetricsRegistry],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
