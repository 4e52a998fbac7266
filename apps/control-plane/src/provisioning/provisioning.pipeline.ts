import { Injectable } from '@nestjs/common';
import type { ProvisioningStep } from './provisioning-step';
import { ActivateTenantStep } from './steps/activate-tenant.step';
import { ApplyTemplateStep } from './steps/apply-template.step';
import { CreateSchemaStep } from './steps/create-schema.step';
import { SeedLookupsStep } from './steps/seed-lookups.step';

/**
 * Onboarding, in order. The registry records one row per name when a tenant is created, so
 * this list and the rows must agree: add a step here and its row appears for new tenants.
 */
export const PROVISIONING_STEP_NAMES = [
  'create-schema',
  'apply-template',
  'seed-lookups',
  'activate',
] as const;

@Injectable()
export class ProvisioningPipeline {
  readonly steps: readonly ProvisioningStep[];

  constructor(
    createSchema: CreateSchemaStep,
    applyTemplate: ApplyTemplateStep,
    seedLookups: SeedLookupsStep,
    activate: ActivateTenantStep,
  ) {
    this.steps = [createSchema, applyTemplate, seedLookups, activate];
    const names = this.steps.map((step) => step.name).join();
    if (names !== PROVISIONING_STEP_NAMES.join()) {
      throw new Error(
        `Provisioning steps ${names} disagree with ${PROVISIONING_STEP_NAMES.join()}`,
      );
    }
  }
}

export const PROVISIONING_STEP_PROVIDERS = [
  CreateSchemaStep,
  ApplyTemplateStep,
  SeedLookupsStep,
  ActivateTenantStep,
  ProvisioningPipeline,
];
