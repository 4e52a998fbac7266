/**
 * The auth module's own subscription to tenant changes (a `TenantEvents`): the shared one takes
 * a single subscriber, which host resolution already is. Rotations arrive as tenant changes.
 */
export const AUTH_TENANT_EVENTS = Symbol('AUTH_TENANT_EVENTS');
