import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentOperator } from '../auth/current-operator.decorator';
import { Roles } from '../auth/roles.decorator';
import { CustomDomains, type CustomDomainView } from './custom-domains.service';
import { AddDomainDto } from './dto/add-domain.dto';

@ApiTags('domains')
@ApiBearerAuth()
@Controller('v1/tenants/:id/domains')
export class CustomDomainsController {
  constructor(private readonly domains: CustomDomains) {}

  /** 201 with the records the customer must publish; verification starts at once. */
  @Post()
  @Roles('ops')
  @HttpCode(201)
  add(
    @Param('id') id: string,
    @Body() body: AddDomainDto,
    @CurrentOperator() operator: string,
  ): Promise<CustomDomainView> {
    return this.domains.add(id, body.hostname, operator);
  }

  @Get()
  @Roles('viewer')
  list(@Param('id') id: string): Promise<CustomDomainView[]> {
    return this.domains.list(id);
  }

  @Get(':hostname')
  @Roles('viewer')
  get(@Param('id') id: string, @Param('hostname') hostname: string): Promise<CustomDomainView> {
    return this.domains.get(id, hostname);
  }

  /** Checks the records again now (and restarts a closed verification window). */
  @Post(':hostname/verify')
  @Roles('ops')
  @HttpCode(202)
  verify(
    @Param('id') id: string,
    @Param('hostname') hostname: string,
    @CurrentOperator() operator: string,
  ): Promise<CustomDomainView> {
    return this.domains.recheck(id, hostname, operator);
  }

  @Delete(':hostname')
  @Roles('ops')
  @HttpCode(204)
  remove(
    @Param('id') id: string,
    @Param('hostname') hostname: string,
    @CurrentOperator() operator: string,
  ): Promise<void> {
    return this.domains.remove(id, hostname, operator);
  }
}
