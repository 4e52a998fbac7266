export { Secret } from './secret';
export {
  ConfigValidationError,
  loadControlPlaneConfig,
  loadDataPlaneConfig,
  withLogin,
  type ClusterConfig,
  type DatabaseLogin,
  type CommonConfig,
  type ControlPlaneConfig,
  type DataPlaneConfig,
  type OperatorSettings,
} from './config.loader';
export { COMMON_CONFIG, CONTROL_PLANE_CONFIG, DATA_PLANE_CONFIG } from './config.tokens';
export { PlatformConfigModule } from './platform-config.module';
export type {
  AcmeSettings,
  CustomDomainSettings,
  DnsSettings,
  IntegrationsConfig,
  MailSettings,
  StorageSettings,
} from './integrations.config';
