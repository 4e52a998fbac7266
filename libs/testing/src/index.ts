export { freePort } from './free-port';
export {
  createTestDatabase,
  dropTenantRolesOfGoneDatabases,
  type TestDatabase,
} from './test-database';
export { startPgBouncer, type PgBouncerHandle, type PgBouncerOptions } from './pgbouncer';
export {
  resolveRecords,
  startPowerDns,
  type PowerDnsOptions,
  type PowerDnsServer,
} from './servers/powerdns.server';
export { startPebble, type PebbleOptions, type PebbleServer } from './servers/pebble.server';
export { startS3Server, type S3Server, type S3ServerOptions } from './servers/s3.server';
export {
  startSmtpCapture,
  type CapturedMail,
  type SmtpCapture,
  type SmtpCaptureOptions,
} from './servers/smtp-capture.server';
