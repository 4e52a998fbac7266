import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { MetricsRegistry } from '@platform/observability';
import { PeriodicTask } from '../common/periodic-task';
import { DomainsQueue } from '../domains/domains.queue';
import { TenantChangeNotifier } from '../tenants/tenant-change.notifier';
import { PlatformCertificate } from './platform-certificate.service';
import { isDueForRenewal } from './renewal-policy';

const DAY_MS = 86_400_000;
/** The platform certificate belongs to no tenant; its change event names only the subject. */
const NO_TENANT = '00000000-0000-0000-0000-000000000000';

interface IssuedRow {
  subject: string;
  tenantId: string | null;
  notBefore: Date;
  notAfter: Date;
  domainId: string | null;
}

/**
 * In the worker, every CERTIFICATE_RENEWAL_CHECK_INTERVAL_MS: renews each certificate at two
 * thirds of its lifetime (the platform wildcard in place, custom domains through their issuance
 * job, which retries with backoff), and makes expiry visible: a gauge of certificates within
 * CERTIFICATE_EXPIRY_ALERT_DAYS of expiry and one of the earliest expiry, plus an error log line
 * per such certificate — that line and a non-zero gauge are what to alert on.
 */
@Injectable()
export class CertificateRenewal implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CertificateRenewal.name);
  private readonly task: PeriodicTask;
  private readonly expiringSoon: Gauge;
  private readonly earliestExpiry: Gauge;

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly platformCertificate: PlatformCertificate,
    private readonly domains: DomainsQueue,
    private readonly notifier: TenantChangeNotifier,
    metrics: MetricsRegistry,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {
    const acme = config.integrations.acme;
    this.task = new PeriodicTask(
      'certificate renewal',
      acme.enabled ? acme.renewalCheckIntervalMs : 3_600_000,
      () => this.renewDue().then(() => undefined),
      this.logger,
    );
    this.expiringSoon = new Gauge({
      name: 'certificates_expiring_soon',
      help: 'Issued certificates within CERTIFICATE_EXPIRY_ALERT_DAYS of expiry (alert when > 0)',
      registers: [metrics.registry],
    });
    this.earliestExpiry = new Gauge({
      name: 'certificate_earliest_expiry_seconds',
      help: 'Seconds until the first issued certificate expires',
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.integrations.acme.enabled) this.task.start(true);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One round; returns the subjects it renewed or queued for renewal. */
  async renewDue(now: Date = new Date()): Promise<string[]> {
    const issued = await this.registry.query<IssuedRow[]>(
      `SELECT c.subject, c.tenant_id AS "tenantId", c.not_before AS "notBefore",
              c.not_after AS "notAfter", d.id AS "domainId"
         FROM platform.certificates c
         LEFT JOIN platform.tenant_domains d
           ON d.hostname = c.subject AND d.tenant_id = c.tenant_id AND d.status = 'active'
        WHERE c.status = 'issued'
        ORDER BY c.not_after`,
    );
    // Only what is served (the wildcard, active custom domains) is watched: a certificate left
    // to expire on purpose (its domain removed, its tenant deleted) must not page anyone as
    // "expires soon and has not been renewed".
    this.observeExpiry(
      issued.filter((row) => row.tenantId === null || row.domainId !== null),
      now,
    );
    const renewed: string[] = [];
    for (const certificate of issued) {
      if (!isDueForRenewal(certificate, now)) continue;
      if (certificate.subject === this.platformCertificate.subject) {
        await this.platformCertificate.ensure(now);
        // Replicas cache the wildcard by subject: without this they would serve the old one
        // until CERTIFICATE_CACHE_TTL_MS (custom domains are announced by their issuance job).
        await this.notifier.tenantChanged(NO_TENANT, [certificate.subject]);
      } else if (certificate.domainId && certificate.tenantId) {
        // The job judges the certificate by this round's clock, not its own: otherwise a
        // round with an injected `now` would queue a renewal that then finds nothing due.
        // Whether the tenant may still have it (not suspended or deleted) is the job's call.
        await this.domains.issueCertificate(
          { id: certificate.domainId, tenantId: certificate.tenantId },
          now,
        );
      } else {
        continue; // a removed domain's certificate: let it expire
      }
      renewed.push(certificate.subject);
    }
    if (renewed.length > 0)
      this.logger.log({ subjects: renewed }, 'certificates renewed or queued');
    return renewed;
  }

  private observeExpiry(issued: readonly IssuedRow[], now: Date): void {
    const alertMs = this.config.integrations.acme.enabled
      ? this.config.integrations.acme.expiryAlertDays * DAY_MS
      : 14 * DAY_MS;
    const soon = issued.filter((row) => row.notAfter.getTime() - now.getTime() < alertMs);
    for (const row of soon) {
      this.logger.error(
        { subject: row.subject, tenantId: row.tenantId, notAfter: row.notAfter },
        'certificate expires soon and has not been renewed',
      );
    }
    this.expiringSoon.set(soon.length);
    if (issued.length > 0) {
      this.earliestExpiry.set((issued[0].notAfter.getTime() - now.getTime()) / 1000);
    }
  }
}
