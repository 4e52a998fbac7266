export {
  CERTIFICATE_AUTHORITY,
  type AccountKeyStore,
  type AcmeOptions,
  type CertificateAuthority,
  type CertificateOrder,
  type ChallengeSolver,
  type IssuedCertificate,
} from './acme.port';
export { AcmeError } from './acme.exception';
export { AcmeModule, type AcmeModuleOptions } from './acme.module';
export { createCertificateAuthority } from './certificate-authority.factory';
export { certificateInfo, type CertificateInfo } from './certificate-info.util';
export { Dns01Solver, challengeRecordName } from './dns-01.solver';
export { PrivateKeyCipher } from './private-key.cipher';
export { Http01Solver, isAcmeToken, type Http01ChallengeStore } from './http-01.solver';
export { RedisHttp01ChallengeStore } from './redis-http-01.store';
