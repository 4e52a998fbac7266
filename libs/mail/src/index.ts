export { createMailTransport } from './mail-transport.factory';
export {
  MAIL_TRANSPORT,
  type MailOptions,
  type MailTransport,
  type OutgoingMail,
  type SendResult,
} from './mail-transport.port';
export { MailError } from './mail.exception';
export { MailModule, type MailModuleOptions } from './mail.module';
