import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { IssuedCertificate } from '@platform/acme';

export interface StoredCertificate {
  readonly id: string;
  readonly subject: string;
  readonly names: string[];
  readonly status: 'ordering' | 'issued' | 'failed' | 'replaced';
  readonly orderUrl: string | null;
  readonly privateKeyEncrypted: string;
  readonly certificatePem: string | null;
  readonly tenantId: string | null;
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
}

const COLUMNS = `id, subject, names, status, order_url AS "orderUrl",
  private_key_encrypted AS "privateKeyEncrypted", certificate_pem AS "certificatePem",
  tenant_id AS "tenantId", not_before AS "notBefore", not_after AS "notAfter"`;

/**
 * Certificates in the registry, by subject: at most one order in flight (`ordering`, with its
 * order URL and encrypted key, so a worker that dies mid-issuance resumes that same order) and
 * one current certificate (`issued`); renewals mark the old one `replaced`.
 */
@Injectable()
export class CertificateRepository {
  constructor(@InjectDataSource() private readonly registry: DataSource) {}

  async current(subject: string): Promise<StoredCertificate | null> {
    return this.one(subject, 'issued');
  }

  async inFlight(subject: string): Promise<StoredCertificate | null> {
    return this.one(subject, 'ordering');
  }

  /** Records (or moves) the order in flight for `subject`. */
  async recordOrder(
    subject: string,
    names: readonly string[],
    orderUrl: string,
    privateKeyEncrypted: string,
    tenantId: string | null,
  ): Promise<void> {
    await this.registry.query(
      `INSERT INTO platform.certificates
         (id, subject, names, tenant_id, status, order_url, private_key_encrypted)
       VALUES ($1, $2, $3, $4, 'ordering', $5, $6)
       ON CONFLICT (subject, status) WHERE status IN ('ordering', 'issued')
       DO UPDATE SET order_url = EXCLUDED.order_url,
                     private_key_encrypted = EXCLUDED.private_key_encrypted, updated_at = now()`,
      [randomUUID(), subject, names, tenantId, orderUrl, privateKeyEncrypted],
    );
  }

  /** The order in flight becomes the current certificate; the one it renews is replaced. */
  async recordIssued(subject: string, issued: IssuedCertificate): Promise<void> {
    await this.registry.transaction(async (manager) => {
      await manager.query(
        `UPDATE platform.certificates SET status = 'replaced', updated_at = now()
          WHERE subject = $1 AND status = 'issued'`,
        [subject],
      );
      await manager.query(
        `UPDATE platform.certificates
            SET status = 'issued', certificate_pem = $2, serial_number = $3, not_before = $4,
                not_after = $5, order_url = $6, last_error = NULL, updated_at = now()
          WHERE subject = $1 AND status = 'ordering'`,
        [
          subject,
          issued.certificatePem,
          issued.serialNumber,
          issued.notBefore,
          issued.notAfter,
          issued.orderUrl,
        ],
      );
    });
  }

  async recordError(subject: string, error: string): Promise<void> {
    await this.registry.query(
      `UPDATE platform.certificates SET last_error = $2, updated_at = now()
        WHERE subject = $1 AND status = 'ordering'`,
      [subject, error.slice(0, 2000)],
    );
  }

  private async one(subject: string, status: string): Promise<StoredCertificate | null> {
    const [row] = await this.registry.query<StoredCertificate[]>(
      `SELECT ${COLUMNS} FROM platform.certificates WHERE subject = $1 AND status = $2`,
      [subject, status],
    );
    return row ?? null;
  }
}
