import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type DomainKind = 'subdomain' | 'custom';

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
  status!: 'active' | 'pending_verification';

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;
}
