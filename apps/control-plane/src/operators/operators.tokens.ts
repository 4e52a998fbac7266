/** The operators module's own Redis connection (ioredis): login attempt counters. */
export const OPERATORS_REDIS = Symbol('OPERATORS_REDIS');
