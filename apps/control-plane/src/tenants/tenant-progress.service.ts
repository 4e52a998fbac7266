import { Injectable, type MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import { TenantRegistry } from './tenant-registry.service';
import type { TenantView } from './tenant.view';

const POLL_MS = 250;
/** A page left open on a tenant that never settles stops being fed after this long. */
const MAX_FOLLOW_MS = 30 * 60_000;
const SETTLED = new Set(['active', 'failed', 'suspended', 'deleted']);

/**
 * Onboarding progress as server-sent events: a `progress` event with the tenant (status and
 * every step) whenever it changes, and the stream ends once the tenant has settled. Polls the
 * registry (one indexed read per follower every 250 ms), which any API replica can do without
 * knowing which worker runs the job.
 */
@Injectable()
export class TenantProgress {
  constructor(private readonly registry: TenantRegistry) {}

  /** Throws (404) before the stream starts when the tenant does not exist. */
  async follow(idOrSlug: string): Promise<Observable<MessageEvent>> {
    const first = await this.registry.get(idOrSlug);
    return new Observable<MessageEvent>((subscriber) => {
      let last = '';
      let timer: NodeJS.Timeout | null = null;
      const deadline = Date.now() + MAX_FOLLOW_MS;
      const emit = (view: TenantView) => {
        const serialized = JSON.stringify(view);
        if (serialized !== last) {
          last = serialized;
          subscriber.next({ type: 'progress', data: view });
        }
        if (SETTLED.has(view.status) || Date.now() > deadline) {
          subscriber.complete();
          return;
        }
        timer = setTimeout(poll, POLL_MS);
      };
      const poll = () => {
        this.registry.get(first.id).then(emit, (error: unknown) => subscriber.error(error));
      };
      emit(first);
      return () => {
        if (timer) clearTimeout(timer);
      };
    });
  }
}
