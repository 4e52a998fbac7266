import type { ServerResponse } from 'node:http';
import { Injectable, Logger } from '@nestjs/common';
import type { ResolvedTenant } from '@platform/tenancy';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import {
  rateLimitHeaders,
  refusalOf,
  retryAfterSeconds,
  tighterState,
} from './rate-limit-decision';
import { answerJson, type ErrorBody } from '@platform/http';
import type { LimitState } from './rate-limit-decision';
import type { RateLimitDecision } from './tenant-rate-limiter';
import { RateLimitMetrics } from './rate-limit.metrics';

const LOG_EVERY_MS = 60_000;
const LOGGED_KEYS_KEPT = 10_000;

/**
 * Turns a decision into the response: RateLimit headers for the tighter limit on every answer,
 * and for a refusal the 429 (through the exception filter), the metric and a log line.
 */
@Injectable()
export class RateLimitResponder {
  private readonly logger = new Logger('RateLimits');
  /** When each tenant and limit kind was last logged: a flood must not become a log flood. */
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly metrics: RateLimitMetrics) {}

  /** The exception to fail the request with, or null when it may go on. */
  apply(
    response: ServerResponse,
    tenant: ResolvedTenant,
    decision: RateLimitDecision,
  ): DataPlaneException | null {
    const shown = tighterState(decision.states);
    const headers = rateLimitHeaders(shown);
    for (const name in headers) response.setHeader(name, headers[name]);
    if (!shown.refused) return null;
    this.metrics.refused.inc({ limit: shown.kind });
    if (this.shouldLog(tenant.id, shown.kind)) {
      this.logger.warn(
        { tenantId: tenant.id, limit: shown.kind, requestsPerMinute: shown.limit },
        'rate limit reached (further refusals of this tenant and limit are not logged for a minute)',
      );
    }
    const { message, details } = refusalOf(shown);
    return new DataPlaneException(
      DataPlaneErrorCode.RateLimited,
      message,
      retryAfterSeconds(shown),
      details,
    );
  }

  /** Answers a refusal directly, outside Nest (RateLimitGate): the same headers and body. */
  send(response: ServerResponse, tenant: ResolvedTenant, refused: LimitState): void {
    const headers = rateLimitHeaders(refused);
    for (const name in headers) response.setHeader(name, headers[name]);
    response.setHeader('Retry-After', String(retryAfterSeconds(refused)));
    this.metrics.refused.inc({ limit: refused.kind });
    if (this.shouldLog(tenant.id, refused.kind)) {
      this.logger.warn(
        { tenantId: tenant.id, limit: refused.kind, requestsPerMinute: refused.limit },
        'rate limit reached (further refusals of this tenant and limit are not logged for a minute)',
      );
    }
    const body: ErrorBody = { error: DataPlaneErrorCode.RateLimited, ...refusalOf(refused) };
    answerJson(response, 429, body);
  }

  private shouldLog(tenantId: string, kind: string): boolean {
    const key = `${kind}:${tenantId}`;
    const now = Date.now();
    const last = this.lastLogged.get(key);
    if (last !== undefined && now - last < LOG_EVERY_MS) return false;
    // Bounded: past this many tenants refused within a minute, start over (a few extra lines).
    if (this.lastLogged.size >= LOGGED_KEYS_KEPT) this.lastLogged.clear();
    this.lastLogged.set(key, now);
    return true;
  }
}
