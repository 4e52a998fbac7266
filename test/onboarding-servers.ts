/**
 * The outside systems of onboarding, for e2e tests: a private PowerDNS (zone of the platform
 * domain), Pebble validating through it, an S3-compatible server and an SMTP capture, each on
 * ports it picks itself. `controlPlaneEnv` configures the control plane and worker for them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startPebble,
  startPowerDns,
  startS3Server,
  startSmtpCapture,
  type PebbleServer,
  type PowerDnsServer,
  type S3Server,
  type SmtpCapture,
} from '@platform/testing';
import { PLATFORM_DOMAIN } from './platform-harness';

export const ONBOARDING_BUCKET = 'tenants';

export interface OnboardingServers {
  readonly powerDns: PowerDnsServer;
  readonly pebble: PebbleServer;
  readonly s3: S3Server;
  readonly smtp: SmtpCapture;
  /** Settings for the control plane and the worker (also for a worker in its own process). */
  readonly controlPlaneEnv: Record<string, string>;
  stop(): Promise<void>;
}

export interface OnboardingServersOptions {
  /**
   * More zones for PowerDNS to serve beside the platform's, e.g. a customer's own domain whose
   * records a custom-domain test publishes the way the customer would.
   */
  readonly extraZones?: readonly string[];
}

export async function startOnboardingServers(
  options: OnboardingServersOptions = {},
): Promise<OnboardingServers> {
  const started: { stop(): Promise<void> }[] = [];
  const directory = await mkdtemp(join(tmpdir(), 'onboarding-'));
  try {
    const powerDns = await startPowerDns({
      zones: [PLATFORM_DOMAIN, ...(options.extraZones ?? [])],
    });
    started.push(powerDns);
    const pebble = await startPebble({ dnsServer: powerDns.dnsAddress });
    started.push(pebble);
    const s3 = await startS3Server({ buckets: [ONBOARDING_BUCKET] });
    started.push(s3);
    const smtp = await startSmtpCapture();
    started.push(smtp);
    const caFile = join(directory, 'pebble-listener.pem');
    await writeFile(caFile, pebble.listenerCaPem);
    const controlPlaneEnv = {
      DNS_PROVIDER: 'powerdns',
      POWERDNS_API_URL: powerDns.apiUrl,
      POWERDNS_API_KEY: powerDns.apiKey,
      ACME_DIRECTORY_URL: pebble.directoryUrl,
      ACME_ACCOUNT_EMAIL: 'ops@platform.test',
      ACME_CA_FILE: caFile,
      ACME_POLL_INTERVAL_MS: '100',
      CERTIFICATE_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      STORAGE_PROVIDER: 's3',
      S3_BUCKET: ONBOARDING_BUCKET,
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      MAIL_PROVIDER: 'smtp',
      SMTP_URL: smtp.url,
      SMTP_IGNORE_TLS: 'true',
      MAIL_FROM: 'Platform <no-reply@platform.test>',
      OUTBOX_POLL_INTERVAL_MS: '200',
    };
    return {
      powerDns,
      pebble,
      s3,
      smtp,
      controlPlaneEnv,
      async stop() {
        for (const server of started.reverse()) await server.stop().catch(() => undefined);
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const server of started.reverse()) await server.stop().catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}
