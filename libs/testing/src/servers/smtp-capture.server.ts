import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface SmtpCaptureOptions {
  /**
   * Holds the reply to the end of DATA this long after the message arrived, so a test can kill
   * the sender while the server still owes the 250.
   */
  acceptDelayMs?: number;
}

export interface CapturedMail {
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO), the addresses delivery was asked for. */
  to: string[];
  subject: string;
  text: string;
  html?: string;
  /** With angle brackets, as in the header: `<id@domain>`. */
  messageId: string;
  raw: string;
  receivedAt: Date;
}

export interface SmtpCapture {
  host: '127.0.0.1';
  port: number;
  /** `smtp://127.0.0.1:<port>`; the server offers no STARTTLS, so send with `ignoreTLS`. */
  url: string;
  /** Messages the server accepted (answered 250 to), in order of acceptance. */
  messages: CapturedMail[];
  /** Resolves with the first `count` messages once that many were accepted. */
  waitForMessages(count: number, timeoutMs?: number): Promise<CapturedMail[]>;
  clear(): void;
  /** Closes the listening socket and every client connection: "SMTP is down". */
  stop(): Promise<void>;
  /** Listens again on the same port, keeping the messages captured so far. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';
const DEFAULT_WAIT_MS = 5_000;

interface Waiter {
  count: number;
  resolve(mails: CapturedMail[]): void;
}

/**
 * An SMTP server that keeps every accepted message in memory. A message counts only once the
 * server has accepted it (the 250 reply to DATA): that is the moment a real relay takes
 * responsibility for it, and the moment an outbox may mark it sent. A message whose client went
 * away before that moment is not recorded, as a real relay would not deliver it either.
 */
export async function startSmtpCapture(options: SmtpCaptureOptions = {}): Promise<SmtpCapture> {
  const acceptDelayMs = options.acceptDelayMs ?? 0;
  const messages: CapturedMail[] = [];
  let waiters: Waiter[] = [];
  const pendingAcceptances = new Map<NodeJS.Timeout, () => void>();
  let server: SMTPServer | undefined;

  const record = (mail: CapturedMail): void => {
    messages.push(mail);
    const ready = waiters.filter((w) => messages.length >= w.count);
    waiters = waiters.filter((w) => messages.length < w.count);
    for (const w of ready) w.resolve(messages.slice(0, w.count));
  };

  const isClientConnected = (current: SMTPServer, session: SMTPServerSession): boolean => {
    for (const connection of current.connections) {
      if (connection.session.id !== session.id) continue;
      return !connection._closing && !connection._closed && !connection._socket.destroyed;
    }
    return false;
  };

  const onData = (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void => {
    const chunks: Buffer[] = [];
    let failed = false;
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err) => {
      failed = true;
      callback(err);
    });
    stream.on('end', () => {
      if (failed) return;
      const raw = Buffer.concat(chunks);
      // The envelope is reset once the reply is sent, so read it now.
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
      const current = server;
      void simpleParser(raw).then(
        (parsed) => {
          const accept = (): void => {
            if (current === undefined || !isClientConnected(current, session)) {
              callback(new Error('client left before the message was accepted'));
              return;
            }
            record({
              from,
              to,
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html === false ? undefined : parsed.html,
              messageId: parsed.messageId ?? '',
              raw: raw.toString('utf8'),
              receivedAt: new Date(),
            });
            callback();
          };
          if (acceptDelayMs <= 0) {
            accept();
            return;
          }
          const timer = setTimeout(() => {
            pendingAcceptances.delete(timer);
            accept();
          }, acceptDelayMs);
          pendingAcceptances.set(timer, () => callback(new Error('server stopping')));
        },
        (err: Error) => callback(err),
      );
    });
  };

  const listen = async (port: number): Promise<number> => {
    const instance = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      allowInsecureAuth: true,
      // Any credentials are fine: the capture checks what is sent, not who sends it.
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anonymous' }),
      disableReverseLookup: true,
      logger: false,
      onData,
    });
    await new Promise<void>((resolve, reject) => {
      instance.once('error', reject);
      instance.listen(port, HOST, () => {
        instance.off('error', reject);
        resolve();
      });
    });
    // Clients that reset their connection (tests kill senders on purpose) surface here; without
    // a listener the 'error' event would crash the test process.
    instance.on('error', () => undefined);
    server = instance;
    const address = instance.server.address();
    if (address === null || typeof address === 'string') {
      throw new Error(`unexpected SMTP listen address: ${String(address)}`);
    }
    return address.port;
  };

  const stop = async (): Promise<void> => {
    const instance = server;
    if (instance === undefined) return;
    server = undefined;
    for (const [timer, refuse] of pendingAcceptances) {
      clearTimeout(timer);
      refuse();
    }
    pendingAcceptances.clear();
    const closed = new Promise<void>((resolve) => instance.close(resolve));
    // close() stops accepting at once but waits up to 30 s for open sessions; cut them now.
    for (const connection of instance.connections) connection._socket.destroy();
    await closed;
  };

  const port = await listen(0);
  return {
    host: HOST,
    port,
    url: `smtp://${HOST}:${port}`,
    messages,
    waitForMessages(count, timeoutMs = DEFAULT_WAIT_MS) {
      if (messages.length >= count) return Promise.resolve(messages.slice(0, count));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve: (mails) => {
            clearTimeout(timer);
            resolve(mails);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(
            new Error(`expected ${count} mail(s) within ${timeoutMs} ms, got ${messages.length}`),
          );
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    clear() {
      messages.length = 0;
    },
    stop,
    async restart() {
      await stop();
      await listen(port);
    },
  };
}
