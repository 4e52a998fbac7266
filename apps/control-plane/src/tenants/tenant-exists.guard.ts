import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { TenantRegistry } from './tenant-registry.service';

/**
 * 404 for an unknown tenant before a stream opens. A server-sent-events route commits to
 * `200 text/event-stream` as soon as its handler is called (with any interceptor in place, even an
 * async handler's rejection only reaches the client as an error event), so the lookup that can
 * refuse has to happen in a guard, which runs first.
 */
@Injectable()
export class TenantExistsGuard implements CanActivate {
  constructor(private readonly registry: TenantRegistry) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const idOrSlug = request.params['idOrSlug'] ?? request.params['id'];
    if (typeof idOrSlug === 'string') await this.registry.find(idOrSlug);
    return true;
  }
}
