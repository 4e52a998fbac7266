import { createTransport, type Transporter } from 'nodemailer';
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';
import type { SMTPSentMessageInfo } from 'nodemailer/lib/smtp-transport';
import type { MailOptions, MailTransport, OutgoingMail, SendResult } from '../mail-transport.port';
import { MailError } from '../mail.exception';

const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
// nodemailer waits 10 minutes for a silent server; an outbox worker should give up far sooner.
const DEFAULT_SOCKET_TIMEOUT_MS = 60_000;
const MESSAGE_ID = /^<[^<>@\s]+@[^<>@\s]+>$/;

interface SmtpEndpoint {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  pass?: string;
}

/** The mail port on nodemailer's SMTP transport (or its pool). */
export class SmtpMailTransport implements MailTransport {
  readonly name = 'smtp';
  private readonly transporter: Transporter<SMTPSentMessageInfo>;
  private readonly system: string;
  private readonly secrets: string[];

  constructor(options: MailOptions) {
    const endpoint = parseSmtpUrl(options.url);
    this.system = `SMTP (${endpoint.host}:${endpoint.port})`;
    // The raw URL holds the password; errors and logs may only ever see the system name.
    this.secrets = [options.url, endpoint.pass, encodedPassword(options.url)].filter(
      (s): s is string => s !== undefined && s !== '',
    );
    const connectionTimeout = options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS;
    const settings: SMTPPoolOptions = {
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.secure,
      auth: endpoint.user === undefined ? undefined : { user: endpoint.user, pass: endpoint.pass },
      ignoreTLS: options.ignoreTLS ?? false,
      requireTLS: options.requireTLS ?? false,
      connectionTimeout,
      greetingTimeout: connectionTimeout,
      socketTimeout: options.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
      logger: false,
      debug: false,
    };
    this.transporter = options.pool
      ? createTransport({
          ...settings,
          pool: true,
          // The pool would otherwise resend a message whose connection dropped mid-send, behind
          // the outbox's back; the outbox owns retries (with the same Message-ID).
          maxRequeues: 0,
        })
      : createTransport(settings);
  }

  async send(mail: OutgoingMail): Promise<SendResult> {
    if (!MESSAGE_ID.test(mail.messageId)) {
      throw new MailError(`${this.system}: Message-ID must look like <id@domain>`);
    }
    let info: SMTPSentMessageInfo;
    try {
      info = await this.transporter.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        headers: mail.headers,
      });
    } catch (err) {
      throw this.wrap('send failed', err);
    }
    const accepted = info.accepted.map(String);
    const rejected = info.rejected.map(String);
    if (rejected.length > 0) {
      throw new MailError(
        this.redact(`${this.system}: recipient(s) rejected: ${rejected.join(', ')}`),
        { code: 'EENVELOPE' },
      );
    }
    return { accepted, rejected, response: info.response };
  }

  async check(): Promise<void> {
    try {
      await this.transporter.verify();
    } catch (err) {
      throw this.wrap('check failed', err);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }

  private wrap(what: string, err: unknown): MailError {
    const details = err as { code?: unknown; responseCode?: unknown; message?: unknown };
    const code = typeof details.code === 'string' ? details.code : undefined;
    const responseCode =
      typeof details.responseCode === 'number' ? details.responseCode : undefined;
    // nodemailer wraps socket errors as "Error: connect ECONNREFUSED …"; drop the echo.
    const cause = (err instanceof Error ? err.message : String(err)).replace(/^Error: /, '');
    return new MailError(
      this.redact(`${this.system}: ${what}: ${code === undefined ? '' : `${code} `}${cause}`),
      // The cause is nodemailer's own error: it never saw the URL, only host, port and auth.
      { cause: err, code, responseCode },
    );
  }

  private redact(message: string): string {
    return this.secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message);
  }
}

function parseSmtpUrl(raw: string): SmtpEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not echoing the value: it may hold a password.
    throw new MailError('SMTP (invalid url): the mail URL does not parse');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new MailError(`SMTP (${url.host}): the mail URL must start with smtp:// or smtps://`);
  }
  const secure = url.protocol === 'smtps:';
  // IPv6 hosts come bracketed from URL; nodemailer wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new MailError('SMTP (no host): the mail URL names no host');
  return {
    host,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    user: url.username === '' ? undefined : decodeURIComponent(url.username),
    pass: url.password === '' ? undefined : decodeURIComponent(url.password),
  };
}

function encodedPassword(raw: string): string | undefined {
  try {
    return new URL(raw).password || undefined;
  } catch {
    return undefined;
  }
}
