/**
 * The TLS module's own subscription to tenant changes (a `TenantEvents`): the shared one takes
 * a single subscriber, which host resolution already is.
 */
export const TLS_TENANT_EVENTS = Symbol('TLS_TENANT_EVENTS');
