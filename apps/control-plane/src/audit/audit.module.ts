import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { RegistryModule } from '../registry.module';
import { AuditChainVerifier } from './audit-chain-verifier.service';
import { AuditOriginMiddleware } from './audit-origin.middleware';
import { AuditTrail } from './audit-trail.service';
import { AuditController } from './audit.controller';

/**
 * The audit trail as the API serves it: reading routes, the chain verifier, and the middleware
 * that tells AuditLog (RegistryModule) where each request came from.
 */
@Module({
  imports: [RegistryModule],
  controllers: [AuditController],
  providers: [AuditTrail, AuditChainVerifier],
  exports: [AuditTrail, AuditChainVerifier],
})
export class AuditModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AuditOriginMiddleware).forRoutes('*path');
  }
}
