import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { TenantCertificates, type CertificateView } from './tenant-certificates.service';

@ApiTags('certificates')
@ApiBearerAuth()
@Controller('v1/tenants/:idOrSlug/certificates')
export class TenantCertificatesController {
  constructor(private readonly certificates: TenantCertificates) {}

  /** The tenant's custom-domain certificates and the platform wildcard, with expiry; no keys. */
  @Get()
  @Roles('viewer')
  list(@Param('idOrSlug') idOrSlug: string): Promise<CertificateView[]> {
    return this.certificates.list(idOrSlug);
  }
}
