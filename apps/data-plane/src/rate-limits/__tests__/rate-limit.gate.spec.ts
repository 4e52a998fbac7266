import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction } from '@platform/http';
import type { DataPlaneConfig } from '@platform/config';
import type { ResolvedTenant } from '@platform/tenancy';
import type { TenantResolver } from '../../tenant-resolution/tenant-resolver.service';
import type { LimitState } from '../rate-limit-decision';
import type { RateLimitResponder } from '../rate-limit.responder';
import { heldFor, RateLimitGate } from '../rate-limit.gate';
import type { TenantRateLimiter } from '../tenant-rate-limiter';
import { tenantHostOf } from '../../tenant-resolution/tenant-host';

const tenant = { id: 't-1', status: 'active' } as ResolvedTenant;
const blocked: LimitState = {
  kind: 'tenant',
  limit: 5,
  remaining: 0,
  resetMs: 10_000,
  refused: true,
};

function gateWith(options: {
  delayMs: number;
  isBlocked?: boolean;
  cachedTenant?: ResolvedTenant;
}) {
  const sent: LimitState[] = [];
  const cached = (host: string | undefined) =>
    host === 'a.test' ? { tenant: options.cachedTenant ?? tenant } : undefined;
  const resolver = {
    cachedFor: (request: IncomingMessage, trusted: ReadonlySet<string>) =>
      cached(tenantHostOf(request, trusted)),
  } as unknown as TenantResolver;
  const limiter = {
    blockedTenant: () => (options.isBlocked === false ? null : blocked),
  } as unknown as TenantRateLimiter;
  const responder = {
    send: (_response: ServerResponse, _tenant: ResolvedTenant, state: LimitState) =>
      sent.push(state),
  } as unknown as RateLimitResponder;
  const config = {
    rateLimits: { enabled: true, refusalDelayMs: options.delayMs },
    trustedProxies: ['10.0.0.1'],
  };
  const gate = new RateLimitGate(
    resolver,
    limiter,
    responder,
    config as unknown as DataPlaneConfig,
  );
  const call = (
    url: string,
    headers: Record<string, string> = { host: 'a.test' },
    peer = '192.0.2.7',
  ) => {
    const next = jest.fn() as NextFunction;
    const response = { destroyed: false, headersSent: false } as unknown as ServerResponse;
    const socket = { remoteAddress: peer };
    gate.handle({ url, headers, socket } as unknown as IncomingMessage, response, next);
    return { next, response };
  };
  return { call, sent };
}

describe('RateLimitGate', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('refuses a blocked tenant at once when no delay is set', () => {
    const { call, sent } = gateWith({ delayMs: 0 });
    const { next } = call('/api/projects');
    expect(next).not.toHaveBeenCalled();
    expect(sent).toEqual([blocked]);
  });

  it('holds the refusal, then sends it with the time left', () => {
    jest.useFakeTimers();
    // The middle of the hold's spread: exactly the delay.
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const { call, sent } = gateWith({ delayMs: 250 });
    call('/api/projects');
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(250);
    expect(sent).toEqual([{ ...blocked, resetMs: 9_750 }]);
  });

  it('spreads hold times between half and one and a half times the delay', () => {
    expect(heldFor(250, () => 0)).toBe(125);
    expect(heldFor(250, () => 0.5)).toBe(250);
    expect(heldFor(250, () => 0.999_999)).toBe(375);
    const holds = Array.from({ length: 1_000 }, () => heldFor(250));
    expect(Math.min(...holds)).toBeGreaterThanOrEqual(125);
    expect(Math.max(...holds)).toBeLessThanOrEqual(375);
    expect(new Set(holds).size).toBeGreaterThan(50);
  });

  it('sends nothing to a client that went away meanwhile', () => {
    jest.useFakeTimers();
    const { call, sent } = gateWith({ delayMs: 250 });
    const { response } = call('/api/projects');
    (response as { destroyed: boolean }).destroyed = true;
    // Past the longest hold (1.5 × the delay).
    jest.advanceTimersByTime(400);
    expect(sent).toEqual([]);
  });

  it.each([
    ['a path outside /api', '/health/live', { host: 'a.test' }],
    ['a host not cached', '/api/projects', { host: 'b.test' }],
  ])('leaves %s to the normal way', (_what, url, headers) => {
    const { call, sent } = gateWith({ delayMs: 0 });
    const { next } = call(url, headers);
    expect(next).toHaveBeenCalledWith();
    expect(sent).toEqual([]);
  });

  it('reads X-Forwarded-Host only from a trusted proxy, as the resolver does', () => {
    const { call, sent } = gateWith({ delayMs: 0 });
    const forwarded = { host: 'a.test', 'x-forwarded-host': 'b.test' };
    // From anyone else the header changes nothing: the blocked tenant of Host is refused.
    expect(call('/api/projects', forwarded).next).not.toHaveBeenCalled();
    expect(sent).toEqual([blocked]);
    // From the proxy it names the host: b.test, not cached here, goes the normal way.
    expect(call('/api/projects', forwarded, '10.0.0.1').next).toHaveBeenCalledWith();
    expect(sent).toEqual([blocked]);
  });

  it('leaves a tenant that is not blocked, or not active, to the normal way', () => {
    const notBlocked = gateWith({ delayMs: 0, isBlocked: false });
    expect(notBlocked.call('/api/projects').next).toHaveBeenCalledWith();
    const suspended = gateWith({
      delayMs: 0,
      cachedTenant: { ...tenant, status: 'suspended' },
    });
    expect(suspended.call('/api/projects').next).toHaveBeenCalledWith();
    expect([...notBlocked.sent, ...suspended.sent]).toEqual([]);
  });
});
