import { Injectable } from '@nestjs/common';
import type { ProvisioningStep } from './provisioning-step';
import { ActivateTenantStep } from './steps/activate-tenant.step';
import { AdminInviteStep } from './steps/admin-invite.step';
import { ApplyTemplateStep } from './steps/apply-template.step';
import { CertificateStep } from './steps/certificate.step';
import { CreateSchemaStep } from './steps/create-schema.step';
import { DnsRecordStep } from './steps/dns-record.step';
import { SeedLookupsStep } from './steps/seed-lookups.step';
import { StoragePrefixStep } from './steps/storage-prefix.step';
import { WelcomeMailStep } from './steps/welcome-mail.step';

/**
 * Onboarding, in order (SPEC.md "Tenant lifecycle"). The registry records one row per name when
 * a tenant is created, so this list and the rows must agree: add a step here and its row
 * appears for new tenants.
 */
export const PROVISIONING_STEP_NAMES = [
  'create-schema',
  'apply-template',
  'seed-lookups',
  'storage-prefix',
  'dns-record',
  'certificate',
  'admin-invite',
  'welcome-mail',
  'activate',
] as const;

/** The steps a warm-pool schema runs ahead of time, before any tenant claims it. */
export const SCHEMA_STEP_NAMES: readonly string[] = [
  'create-schema',
  'apply-template',
  'seed-lookups',
];

@Injectable()
export class ProvisioningPipeline {
  readonly steps: readonly ProvisioningStep[];
  readonly schemaSteps: readonly ProvisioningStep[];

  constructor(
    createSchema: CreateSchemaStep,
    applyTemplate: ApplyTemplateStep,
    seedLookups: SeedLookupsStep,
    storagePrefix: StoragePrefixStep,
    dnsRecord: DnsRecordStep,
    certificate: CertificateStep,
    adminInvite: AdminInviteStep,
    welcomeMail: WelcomeMailStep,
    activate: ActivateTenantStep,
  ) {
    this.steps = [
      createSchema,
      applyTemplate,
      seedLookups,
      storagePrefix,
      dnsRecord,
      certificate,
      adminInvite,
      welcomeMail,
      activate,
    ];
    const names = this.steps.map((step) => step.name).join();
    if (names !== PROVISIONING_STEP_NAMES.join()) {
      throw new Error(
        `Provisioning steps ${names} disagree with ${PROVISIONING_STEP_NAMES.join()}`,
      );
    }
    this.schemaSteps = this.steps.filter((step) => SCHEMA_STEP_NAMES.includes(step.name));
  }
}

export const PROVISIONING_STEP_PROVIDERS = [
  CreateSchemaStep,
  ApplyTemplateStep,
  SeedLookupsStep,
  StoragePrefixStep,
  DnsRecordStep,
  CertificateStep,
  AdminInviteStep,
  WelcomeMailStep,
  ActivateTenantStep,
  ProvisioningPipeline,
];
