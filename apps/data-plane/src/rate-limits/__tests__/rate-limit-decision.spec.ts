import {
  rateLimitHeaders,
  refusalOf,
  retryAfterSeconds,
  tighterState,
  type LimitState,
} from '../rate-limit-decision';

const state = (overrides: Partial<LimitState>): LimitState => ({
  kind: 'tenant',
  limit: 600,
  remaining: 500,
  resetMs: 30_000,
  refused: false,
  ...overrides,
});

describe('tighterState', () => {
  it('shows the limit with fewer requests left', () => {
    const tenant = state({ remaining: 10 });
    const user = state({ kind: 'user', limit: 300, remaining: 200 });
    expect(tighterState([tenant, user])).toBe(tenant);
    expect(tighterState([user, tenant])).toBe(tenant);
  });

  it('shows the smaller limit when as many requests are left', () => {
    const tenant = state({ remaining: 100 });
    const user = state({ kind: 'user', limit: 300, remaining: 100 });
    expect(tighterState([tenant, user])).toBe(user);
  });

  it('shows a refusal over any admitted state, and the one that lifts last of two', () => {
    const tenant = state({ remaining: 0 });
    const user = state({ kind: 'user', limit: 300, remaining: 0, refused: true, resetMs: 2_000 });
    expect(tighterState([tenant, user])).toBe(user);
    const tenantRefused = state({ remaining: 0, refused: true, resetMs: 9_000 });
    expect(tighterState([user, tenantRefused])).toBe(tenantRefused);
  });

  it('needs at least one state', () => {
    expect(() => tighterState([])).toThrow();
  });
});

describe('rateLimitHeaders', () => {
  it('gives limit, remaining, whole seconds to reset and the policy with its window', () => {
    expect(rateLimitHeaders(state({ limit: 600, remaining: 599, resetMs: 12_001 }))).toEqual({
      'RateLimit-Limit': '600',
      'RateLimit-Remaining': '599',
      'RateLimit-Reset': '13',
      'RateLimit-Policy': '600;w=60',
    });
  });

  it('never reports negative numbers', () => {
    const headers = rateLimitHeaders(state({ remaining: -3, resetMs: -5 }));
    expect(headers['RateLimit-Remaining']).toBe('0');
    expect(headers['RateLimit-Reset']).toBe('0');
  });
});

describe('retryAfterSeconds', () => {
  it('rounds up and is at least one second', () => {
    expect(retryAfterSeconds(state({ resetMs: 1 }))).toBe(1);
    expect(retryAfterSeconds(state({ resetMs: 0 }))).toBe(1);
    expect(retryAfterSeconds(state({ resetMs: 4_200 }))).toBe(5);
  });
});

describe('refusalOf', () => {
  it('names the tenant limit by the name the limits API uses', () => {
    const refusal = refusalOf(state({ limit: 5, refused: true, remaining: 0, resetMs: 7_500 }));
    expect(refusal.message).toContain('5 requests per minute');
    expect(refusal.message).toContain('8 s');
    expect(refusal.details).toEqual([
      { field: 'requestsPerMinute', rule: 'tenant-rate-limit', message: refusal.message },
    ]);
  });

  it('names the user limit', () => {
    const refusal = refusalOf(state({ kind: 'user', limit: 3, refused: true, remaining: 0 }));
    expect(refusal.details[0]).toMatchObject({
      field: 'requestsPerMinutePerUser',
      rule: 'user-rate-limit',
    });
  });
});
