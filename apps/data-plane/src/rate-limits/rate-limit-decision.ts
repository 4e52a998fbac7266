import type { FieldProblem } from '@platform/http';
import type { LimitName } from '@platform/tenancy';

/** Every limit here counts requests per minute; the plans and overrides say how many. */
export const RATE_LIMIT_WINDOW_SECONDS = 60;

export type LimitKind = 'tenant' | 'user';

/** Where each kind's number comes from, by the names the limits API uses. */
export const LIMIT_NAME_OF: Readonly<Record<LimitKind, LimitName>> = {
  tenant: 'requestsPerMinute',
  user: 'requestsPerMinutePerUser',
};

/** One limit's answer for one request. */
export interface LimitState {
  readonly kind: LimitKind;
  readonly limit: number;
  readonly remaining: number;
  /** Admitted: until the current window ends. Refused: until one more request would fit. */
  readonly resetMs: number;
  readonly refused: boolean;
}

/**
 * The state the response reports: a refusal if there is one (the one that lifts last, when
 * both refuse), else the limit with the fewest requests left (the smaller limit on a tie).
 */
export function tighterState(states: readonly LimitState[]): LimitState {
  if (states.length === 0) throw new Error('tighterState needs at least one limit');
  return states.reduce((shown, state) => {
    if (state.refused !== shown.refused) return state.refused ? state : shown;
    if (state.refused) return state.resetMs > shown.resetMs ? state : shown;
    if (state.remaining !== shown.remaining)
      return state.remaining < shown.remaining ? state : shown;
    return state.limit < shown.limit ? state : shown;
  });
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/**
 * IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers, the widely deployed
 * separate-field form): the limit, what is left of it, seconds until it resets, and the policy
 * as `<limit>;w=<window seconds>`.
 */
export function rateLimitHeaders(state: LimitState): Record<string, string> {
  return {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'RateLimit-Reset': String(seconds(state.resetMs)),
    'RateLimit-Policy': `${state.limit};w=${RATE_LIMIT_WINDOW_SECONDS}`,
  };
}

/** Whole seconds a refused client should wait: never 0, which would invite an instant retry. */
export function retryAfterSeconds(state: LimitState): number {
  return Math.max(1, seconds(state.resetMs));
}

/** The sentence and the detail naming the limit, for the 429 body. */
export function refusalOf(state: LimitState): { message: string; details: FieldProblem[] } {
  const wait = retryAfterSeconds(state);
  const message =
    state.kind === 'tenant'
      ? `This tenant's API accepts ${state.limit} requests per minute from all its callers together; try again in ${wait} s`
      : `Each user of this tenant may send ${state.limit} requests per minute; try again in ${wait} s`;
  return {
    message,
    details: [{ field: LIMIT_NAME_OF[state.kind], rule: `${state.kind}-rate-limit`, message }],
  };
}
