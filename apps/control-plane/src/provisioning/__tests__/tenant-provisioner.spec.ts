/**
 * How TenantProvisioner records a step: the start record runs beside the step's work, and the
 * outcome is recorded only once the start is, in that order, whatever finishes first.
 */
import type { DataSource } from 'typeorm';
import type { ControlPlaneConfig } from '@platform/config';
import type { TenantJobs } from '../../common/tenant-job';
import type { TenantChangeNotifier } from '../../tenants/tenant-change.notifier';
import type { TenantEntity } from '../../tenants/tenant.entity';
import type { ProvisioningStep } from '../provisioning-step';
import type { ProvisioningPipeline } from '../provisioning.pipeline';
import type { ProvisioningStepRepository } from '../provisioning-step.repository';
import { TenantProvisioner } from '../tenant-provisioner.service';

const TENANT = {
  id: '6bde474c-d542-4bb5-80fb-bc8328148373',
  status: 'provisioning',
} as TenantEntity;

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

function provisionerWith(step: ProvisioningStep, startRecord: Promise<void>, events: string[]) {
  const records = {
    doneSteps: async () => new Set<string>(),
    started: () => {
      events.push('started: sent');
      return startRecord.then(() => {
        events.push('started: committed');
      });
    },
    succeeded: async () => {
      events.push('succeeded');
    },
    skipped: async () => {
      events.push('skipped');
    },
    failed: async (_id: string, _step: string, reason: string) => {
      events.push(`failed: ${reason}`);
    },
    abandon: async () => undefined,
  } as unknown as ProvisioningStepRepository;
  const lock = { connect: async () => undefined, query: async () => [], release: async () => {} };
  const registry = { createQueryRunner: () => lock } as unknown as DataSource;
  const jobs = {
    run: async (
      _policy: unknown,
      _id: string,
      work: (tenant: TenantEntity) => Promise<unknown>,
    ) => ({ ran: true, value: await work(TENANT) }),
    stopReason: async () => null,
  } as unknown as TenantJobs;
  const pipeline = { steps: [step], schemaSteps: [step] } as unknown as ProvisioningPipeline;
  const config = { integrations: { faultHold: null } } as unknown as ControlPlaneConfig;
  return new TenantProvisioner(
    registry,
    pipeline,
    records,
    { tenantChanged: async () => undefined } as unknown as TenantChangeNotifier,
    jobs,
    config,
  );
}

describe('TenantProvisioner step records', () => {
  it('records the outcome only after the start, even when the step finishes first', async () => {
    const events: string[] = [];
    const start = deferred();
    const step: ProvisioningStep = {
      name: 'create-schema',
      run: async () => {
        events.push('step: done');
        // The start record commits only after the step has finished.
        setTimeout(() => start.resolve(), 20);
      },
    };
    await provisionerWith(step, start.promise, events).provision(TENANT.id, {
      finalAttempt: false,
    });
    expect(events).toEqual(['started: sent', 'step: done', 'started: committed', 'succeeded']);
  });

  it('fails the step, without an unhandled rejection, when its start cannot be recorded', async () => {
    const events: string[] = [];
    const start = deferred();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const step: ProvisioningStep = {
        name: 'create-schema',
        run: async () => {
          // The registry fails while the step still works.
          start.reject(new Error('registry unreachable'));
          await new Promise((resolve) => setTimeout(resolve, 20));
          events.push('step: done');
        },
      };
      await expect(
        provisionerWith(step, start.promise, events).provision(TENANT.id, { finalAttempt: false }),
      ).rejects.toThrow('create-schema: registry unreachable');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(events).toEqual(['started: sent', 'step: done', 'failed: registry unreachable']);
  });
});
