import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One audit entry. Append-only: the database refuses UPDATE, DELETE and TRUNCATE, and its
 * insert trigger assigns id, created_at, prev_hash and hash (see the audit-chain migration).
 */
@Entity({ schema: 'platform', name: 'audit_log' })
export class AuditEntryEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('text')
  actor!: string;

  @Column('text', { name: 'operator_id', nullable: true })
  operatorId!: string | null;

  @Column('text')
  action!: string;

  @Column('uuid', { name: 'tenant_id', nullable: true })
  tenantId!: string | null;

  @Column('jsonb')
  details!: Record<string, unknown>;

  @Column('jsonb', { nullable: true })
  before!: Record<string, unknown> | null;

  @Column('jsonb', { nullable: true })
  after!: Record<string, unknown> | null;

  /** Null only for entries written before sources were recorded. */
  @Column('text', { nullable: true })
  source!: 'api' | 'worker' | 'cli' | null;

  @Column('text', { nullable: true })
  ip!: string | null;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('text', { name: 'prev_hash' })
  prevHash!: string;

  @Column('text')
  hash!: string;
}
