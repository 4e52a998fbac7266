/**
 * A failed send or check. The message starts with the system (`SMTP (mail.example.com:587): ...`)
 * and never holds the credentials of the connection URL.
 */
export class MailError extends Error {
  override readonly name = 'MailError';
  /** nodemailer's error code: ECONNECTION, ETIMEDOUT, EAUTH, EENVELOPE, EMESSAGE, ESOCKET… */
  readonly code?: string;
  /** The SMTP reply code when the server answered (4xx: try again later, 5xx: permanent). */
  readonly responseCode?: number;

  constructor(
    message: string,
    details: { cause?: unknown; code?: string; responseCode?: number } = {},
  ) {
    super(message, { cause: details.cause });
    this.code = details.code;
    this.responseCode = details.responseCode;
  }
}
