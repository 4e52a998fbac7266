import { Test } from '@nestjs/testing';
import {
  createMailTransport,
  MAIL_TRANSPORT,
  MailError,
  MailModule,
  type MailOptions,
  type MailTransport,
  type OutgoingMail,
} from '@platform/mail';
import { startSmtpCapture, type SmtpCapture } from '@platform/testing';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function welcomeMail(id: string, to = 'admin@acme.test'): OutgoingMail {
  return {
    from: 'Platform <no-reply@platform.test>',
    to,
    subject: `Welcome to Acme (${id})`,
    text: 'Set your password: https://acme.platform.test/invite/abc',
    html: '<p>Set your password: <a href="https://acme.platform.test/invite/abc">here</a></p>',
    messageId: `<${id}@platform.test>`,
    headers: { 'X-Outbox-Id': id },
  };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('SMTP mail driver against a capture server', () => {
  let capture: SmtpCapture;
  const transports: MailTransport[] = [];

  function transport(overrides: Partial<MailOptions> = {}): MailTransport {
    const t = createMailTransport({
      provider: 'smtp',
      url: capture.url,
      ignoreTLS: true,
      connectionTimeoutMs: 2_000,
      ...overrides,
    });
    transports.push(t);
    return t;
  }

  beforeAll(async () => {
    capture = await startSmtpCapture();
  });

  afterEach(() => capture.clear());

  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await capture?.stop();
  });

  it('delivers subject, text, html, sender, recipient and the given Message-ID', async () => {
    const result = await transport().send(welcomeMail('outbox-1'));

    expect(result.accepted).toEqual(['admin@acme.test']);
    expect(result.rejected).toEqual([]);
    expect(result.response).toMatch(/^250 /);
    const [mail] = await capture.waitForMessages(1);
    expect(mail).toMatchObject({
      from: 'no-reply@platform.test',
      to: ['admin@acme.test'],
      subject: 'Welcome to Acme (outbox-1)',
      text: 'Set your password: https://acme.platform.test/invite/abc',
      messageId: '<outbox-1@platform.test>',
    });
    expect(mail.html).toContain('<a href="https://acme.platform.test/invite/abc">here</a>');
    expect(mail.raw).toMatch(/^X-Outbox-Id: outbox-1\r?$/im);
  });

  it('passes the health check', async () => {
    await expect(transport().check()).resolves.toBeUndefined();
  });

  it('provides MAIL_TRANSPORT through MailModule and closes it on shutdown', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MailModule.register({
          useFactory: () => ({ provider: 'smtp', url: capture.url, ignoreTLS: true }),
        }),
      ],
    }).compile();
    const app = await moduleRef.init();
    const fromModule = app.get<MailTransport>(MAIL_TRANSPORT);
    await fromModule.send(welcomeMail('via-module'));
    expect((await capture.waitForMessages(1))[0].messageId).toBe('<via-module@platform.test>');
    const close = jest.spyOn(fromModule, 'close');
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('logs in when the URL has credentials, and sends through a pool', async () => {
    const pooled = transport({
      url: `smtp://mailer:s3cr%40t@127.0.0.1:${capture.port}`,
      pool: true,
    });
    await pooled.check();
    await pooled.send(welcomeMail('pooled-1'));
    await pooled.send(welcomeMail('pooled-2', 'other@globex.test'));

    const mails = await capture.waitForMessages(2);
    expect(mails.map((m) => [m.messageId, m.to])).toEqual([
      ['<pooled-1@platform.test>', ['admin@acme.test']],
      ['<pooled-2@platform.test>', ['other@globex.test']],
    ]);
  });

  it('refuses a Message-ID that receivers could not dedupe on', async () => {
    const err = await caught(transport().send({ ...welcomeMail('x'), messageId: 'no-brackets' }));
    expect(err).toBeInstanceOf(MailError);
    await sleep(100);
    expect(capture.messages).toHaveLength(0);
  });

  it('names SMTP host:port when the server is down, without the password, and recovers', async () => {
    const url = `smtp://mailer:hunter2-secret@127.0.0.1:${capture.port}`;
    const mailer = transport({ url });
    await capture.stop();
    try {
      const err = await caught(mailer.send(welcomeMail('while-down')));
      expect(err).toBeInstanceOf(MailError);
      const message = (err as MailError).message;
      expect(message).toMatch(
        new RegExp(
          `^SMTP \\(127\\.0\\.0\\.1:${capture.port}\\): send failed: ESOCKET connect ECONNREFUSED`,
        ),
      );
      expect(message).not.toContain('hunter2');
      expect((err as MailError).code).toBe('ESOCKET');
      await expect(mailer.check()).rejects.toThrow(`SMTP (127.0.0.1:${capture.port})`);
    } finally {
      await capture.restart();
    }

    await mailer.send(welcomeMail('after-restart'));
    const [mail] = await capture.waitForMessages(1);
    expect(mail.messageId).toBe('<after-restart@platform.test>');
  });

  describe('a sender that gives up before the server accepts', () => {
    let slow: SmtpCapture;

    beforeAll(async () => {
      slow = await startSmtpCapture({ acceptDelayMs: 800 });
    });

    afterAll(async () => {
      await slow?.stop();
    });

    it('is not recorded as received', async () => {
      const impatient = transport({ url: slow.url, socketTimeoutMs: 200 });
      const err = await caught(impatient.send(welcomeMail('abandoned')));
      expect(err).toBeInstanceOf(MailError);
      expect((err as MailError).message).toMatch(/^SMTP \(127\.0\.0\.1:\d+\): send failed: /);

      await sleep(1_200); // past the acceptance delay
      expect(slow.messages).toHaveLength(0);
    });

    it('negative control: a sender that waits is recorded after the delay', async () => {
      const started = Date.now();
      await transport({ url: slow.url }).send(welcomeMail('patient'));
      expect(Date.now() - started).toBeGreaterThanOrEqual(750);
      expect(slow.messages.map((m) => m.messageId)).toEqual(['<patient@platform.test>']);
    });
  });
});
