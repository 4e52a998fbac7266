export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  /**
   * `<id@domain>`, stable per outbox row: a retried send after a crash carries the same id, so
   * receivers (and tests) can tell a duplicate from a second mail.
   */
  messageId: string;
  headers?: Record<string, string>;
}

export interface SendResult {
  accepted: string[];
  rejected: string[];
  /** The server's final reply, e.g. `250 OK: queued as 1A2B3C`. */
  response: string;
}

export interface MailTransport {
  readonly name: 'smtp';
  /**
   * Resolves once the server accepted the message for every recipient; throws `MailError`
   * otherwise (a rejected recipient included). A timeout leaves it unknown whether the server
   * kept the message: retry with the same `messageId`.
   */
  send(mail: OutgoingMail): Promise<SendResult>;
  /** Connects (and logs in, when the URL has credentials). For health checks. */
  check(): Promise<void>;
  /** Closes pooled connections; the transport is unusable afterwards. */
  close(): Promise<void>;
}

export interface MailOptions {
  provider: 'smtp';
  /**
   * `smtp://user:pass@host:port` (STARTTLS when offered, port 587 by default) or
   * `smtps://user:pass@host:port` (TLS from the first byte, port 465 by default). User and
   * password are percent-decoded.
   */
  url: string;
  /** Never upgrade with STARTTLS; only for a local capture server. */
  ignoreTLS?: boolean;
  /** Fail unless STARTTLS succeeds; use it for any relay across a network. */
  requireTLS?: boolean;
  /** Connect and greeting timeout; default 10 s. */
  connectionTimeoutMs?: number;
  /** Inactivity timeout of an open connection; default 60 s. */
  socketTimeoutMs?: number;
  /** Keep connections open between sends (nodemailer's SMTP pool). */
  pool?: boolean;
}
