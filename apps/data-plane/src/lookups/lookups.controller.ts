import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { TenantTransactionRunner } from '@platform/database';

interface Country {
  alpha2: string;
  alpha3: string;
  numericCode: string;
  name: string;
}

interface Currency {
  code: string;
  numericCode: string;
  name: string;
  minorUnit: number | null;
}

/** Seeded reference data, read from the tenant's own copy (tenants may extend theirs). */
@ApiTags('lookups')
@Controller('api/lookups')
export class LookupsController {
  constructor(private readonly database: TenantTransactionRunner) {}

  @Get('countries')
  async countries(): Promise<{ items: Country[] }> {
    const items = await this.database.query<Country>(
      `SELECT alpha2, alpha3, numeric_code AS "numericCode", name FROM countries ORDER BY alpha2`,
      [],
      { readOnly: true },
    );
    return { items };
  }

  @Get('currencies')
  async currencies(): Promise<{ items: Currency[] }> {
    const items = await this.database.query<Currency>(
      `SELECT code, numeric_code AS "numericCode", name, minor_unit AS "minorUnit"
         FROM currencies ORDER BY code`,
      [],
      { readOnly: true },
    );
    return { items };
  }
}
