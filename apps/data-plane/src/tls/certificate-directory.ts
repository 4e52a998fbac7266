import { Injectable } from '@nestjs/common';
import { ClusterConnections, PLATFORM_SCHEMA } from '@platform/database';

/** An issued certificate as stored: the key still sealed. */
export interface StoredCertificate {
  readonly id: string;
  readonly subject: string;
  /** The tenant the certificate serves; null for the platform wildcard. */
  readonly tenantId: string | null;
  readonly privateKeyEncrypted: string;
  /** Leaf first, then the intermediates. */
  readonly certificatePem: string;
}

interface CertificateRow {
  id: string;
  subject: string;
  tenant_id: string | null;
  private_key_encrypted: string;
  certificate_pem: string;
}

/** Reads the registry's certificates (main cluster) for SNI. One query per cache miss. */
@Injectable()
export class CertificateDirectory {
  constructor(private readonly clusters: ClusterConnections) {}

  /** The current certificate of a platform-wide subject (`*.<platform domain>`). */
  async findPlatformCertificate(subject: string): Promise<StoredCertificate | null> {
    const { rows } = await this.clusters.pool('main').query<CertificateRow>(
      `SELECT id, subject, tenant_id, private_key_encrypted, certificate_pem
         FROM ${PLATFORM_SCHEMA}.certificates
        WHERE subject = $1 AND status = 'issued' AND certificate_pem IS NOT NULL`,
      [subject],
    );
    return toStored(rows[0]);
  }

  /**
   * The certificate of a custom domain, only while the domain is `active` and its tenant not
   * deleted, and only one ordered for the tenant that owns the domain now: a hostname that
   * moved to another tenant does not keep serving the previous owner's certificate.
   */
  async findCustomDomainCertificate(hostname: string): Promise<StoredCertificate | null> {
    const { rows } = await this.clusters.pool('main').query<CertificateRow>(
      `SELECT c.id, c.subject, c.tenant_id, c.private_key_encrypted, c.certificate_pem
         FROM ${PLATFORM_SCHEMA}.tenant_domains d
         JOIN ${PLATFORM_SCHEMA}.tenants t ON t.id = d.tenant_id
         JOIN ${PLATFORM_SCHEMA}.certificates c
           ON c.subject = d.hostname AND c.tenant_id = d.tenant_id AND c.status = 'issued'
        WHERE d.hostname = $1 AND d.kind = 'custom' AND d.status = 'active'
          AND t.status <> 'deleted' AND c.certificate_pem IS NOT NULL`,
      [hostname],
    );
    return toStored(rows[0]);
  }
}

function toStored(row: CertificateRow | undefined): StoredCertificate | null {
  if (!row) return null;
  return {
    id: row.id,
    subject: row.subject,
    tenantId: row.tenant_id,
    privateKeyEncrypted: row.private_key_encrypted,
    certificatePem: row.certificate_pem,
  };
}
