/** Injection tokens for the validated config objects (symbols, so no string can collide). */
export const CONTROL_PLANE_CONFIG = Symbol('ControlPlaneConfig');
export const DATA_PLANE_CONFIG = Symbol('DataPlaneConfig');
/** The part both apps share; libs depend on this one only. */
export const COMMON_CONFIG = Symbol('CommonConfig');
