import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type DomainKind = 'subdomain' | 'custom';

export type DomainStatus =
  'pending_verification' | 'verified' | 'verification_failed' | 'certificate_failed' | 'active';

@Entity({ schema: 'platform', name: 'tenant_domains' })
export class TenantDomainEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('text')
  hostname!: string;

  @Column('text')
  kind!: DomainKind;

  @Column('text')
  status!: DomainStatus;

  /** Custom domains: the value the customer publishes in TXT to prove ownership. */
  @Column('text', { name: 'verification_token', nullable: true })
  verificationToken!: string | null;

  @Column('text', { name: 'verification_error', nullable: true })
  verificationError!: string | null;

  @Column('timestamptz', { name: 'verify_until', nullable: true })
  verifyUntil!: Date | null;

  @Column('timestamptz', { name: 'last_checked_at', nullable: true })
  lastCheckedAt!: Date | null;

  @Column('timestamptz', { name: 'verified_at', nullable: true })
  verifiedAt!: Date | null;

  @Column('timestamptz', { name: 'activated_at', nullable: true })
  activatedAt!: Date | null;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;
}
