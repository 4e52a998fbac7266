import { Column, Entity, PrimaryColumn } from 'typeorm';

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** One row per tenant and step: what the provisioning job did, how often, and how it ended. */
@Entity({ schema: 'platform', name: 'provisioning_steps' })
export class ProvisioningStepEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @PrimaryColumn('text')
  step!: string;

  @Column('integer')
  position!: number;

  @Column('text')
  status!: StepStatus;

  @Column('integer')
  attempts!: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  @Column('integer', { name: 'duration_ms', nullable: true })
  durationMs!: number | null;
}
