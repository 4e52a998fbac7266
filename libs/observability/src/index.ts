export { ObservabilityModule, type ObservabilityOptions } from './observability.module';
export { MetricsRegistry } from './metrics.registry';
export { READINESS_CHECKS, type ReadinessCheck } from './readiness-check';
export { requestIdFor } from './logging.options';
