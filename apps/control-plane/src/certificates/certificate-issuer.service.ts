import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CERTIFICATE_AUTHORITY,
  type CertificateAuthority,
  type ChallengeSolver,
  type PrivateKeyCipher,
} from '@platform/acme';
import { PRIVATE_KEY_CIPHER } from '../integrations/integrations.tokens';
import { CertificateRepository, type StoredCertificate } from './certificate.repository';
import { isDueForRenewal } from './renewal-policy';

export interface CertificateRequest {
  /** The certificate's first name, its key in the registry. */
  readonly subject: string;
  readonly names: readonly string[];
  readonly solver: ChallengeSolver;
  /** The tenant a custom-domain certificate belongs to (counts against its order budget). */
  readonly tenantId: string | null;
  /**
   * The moment the current certificate is judged at (default: now). The renewal round passes
   * its own clock, so a round run with a later one (tests) renews what it found due.
   */
  readonly now?: Date;
}

/**
 * Gets a certificate for a subject from the CA, once. Already done when the current certificate
 * is not yet due for renewal. Otherwise one worker at a time (a session advisory lock, released
 * if the worker dies) orders it — or resumes the order a dead worker recorded: the order URL and
 * the encrypted key are stored before any challenge, so the CA never sees a second order for a
 * crash, and the renewal beside a current certificate replaces it only once issued.
 */
@Injectable()
export class CertificateIssuer {
  private readonly logger = new Logger(CertificateIssuer.name);

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly certificates: CertificateRepository,
    @Inject(CERTIFICATE_AUTHORITY) private readonly authority: CertificateAuthority | null,
    @Inject(PRIVATE_KEY_CIPHER) private readonly cipher: PrivateKeyCipher | null,
  ) {}

  get enabled(): boolean {
    return this.authority !== null && this.cipher !== null;
  }

  /** The current certificate of `subject` when it is not yet due for renewal at `now`. */
  async fresh(subject: string, now: Date = new Date()): Promise<StoredCertificate | null> {
    const current = await this.certificates.current(subject);
    return current && !isDueForRenewal(current, now) ? current : null;
  }

  /** Whether `subject` has an issued certificate at all (due for renewal or not). */
  async hasCurrent(subject: string): Promise<boolean> {
    return (await this.certificates.current(subject)) !== null;
  }

  async ensure(request: CertificateRequest): Promise<StoredCertificate> {
    const fresh = await this.fresh(request.subject, request.now);
    if (fresh) return fresh;
    const { authority, cipher } = this;
    if (!authority || !cipher) {
      throw new Error('Certificates need ACME_DIRECTORY_URL and CERTIFICATE_ENCRYPTION_KEY');
    }
    const runner = this.registry.createQueryRunner();
    await runner.connect();
    const lockKey = `certificate:${request.subject}`;
    try {
      await runner.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey]);
      const issuedMeanwhile = await this.fresh(request.subject, request.now);
      if (issuedMeanwhile) return issuedMeanwhile;
      const pending = await this.certificates.inFlight(request.subject);
      try {
        const issued = await authority.issue({
          names: [...request.names],
          solver: request.solver,
          ...(pending?.orderUrl && {
            resumeOrderUrl: pending.orderUrl,
            privateKeyPem: cipher.decrypt(pending.privateKeyEncrypted),
          }),
          onOrderCreated: (orderUrl, privateKeyPem) =>
            this.certificates.recordOrder(
              request.subject,
              request.names,
              orderUrl,
              cipher.encrypt(privateKeyPem),
              request.tenantId,
            ),
        });
        await this.certificates.recordIssued(request.subject, issued);
        this.logger.log(
          {
            subject: request.subject,
            tenantId: request.tenantId,
            notAfter: issued.notAfter,
            serial: issued.serialNumber,
          },
          'certificate issued',
        );
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        await this.certificates.recordError(request.subject, reason);
        throw error;
      }
      const current = await this.certificates.current(request.subject);
      if (!current) throw new Error(`certificate for ${request.subject} was not recorded`);
      return current;
    } finally {
      await runner
        .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey])
        .catch(() => undefined);
      await runner.release();
    }
  }
}
