/** The shared store the worker writes HTTP-01 proofs to (an `Http01ChallengeStore`). */
export const HTTP01_CHALLENGE_STORE = Symbol('HTTP01_CHALLENGE_STORE');

/** This module's own Redis connection (ioredis), closed when the app shuts down. */
export const ACME_CHALLENGE_REDIS = Symbol('ACME_CHALLENGE_REDIS');
