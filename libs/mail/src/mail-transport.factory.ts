import { SmtpMailTransport } from './drivers/smtp.driver';
import type { MailOptions, MailTransport } from './mail-transport.port';

/** Picks the driver named by validated config. Creating it opens no connection. */
export function createMailTransport(options: MailOptions): MailTransport {
  switch (options.provider) {
    case 'smtp':
      return new SmtpMailTransport(options);
    default: {
      const unknown: never = options.provider;
      throw new Error(`unknown mail provider: ${String(unknown)}`);
    }
  }
}
