import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TenantStatus } from '@platform/tenancy';

@Entity({ schema: 'platform', name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  slug!: string;

  @Column('text')
  name!: string;

  @Column('text')
  plan!: string;

  @Column('text', { name: 'admin_email' })
  adminEmail!: string;

  @Column('text')
  status!: TenantStatus;

  @Column('text', { name: 'status_reason', nullable: true })
  statusReason!: string | null;

  @Column('text', { name: 'schema_name' })
  schemaName!: string;

  @Column('text')
  cluster!: string;

  @Column('integer', { name: 'template_version' })
  templateVersion!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'activated_at', nullable: true })
  activatedAt!: Date | null;

  @Column('timestamptz', { name: 'suspended_at', nullable: true })
  suspendedAt!: Date | null;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
