import type { TemplateSeed } from '@platform/database';
import { COUNTRIES } from './countries.data';
import { CURRENCIES } from './currencies.data';

/**
 * ISO 3166 countries and ISO 4217 currencies. One statement per table (arrays unnested
 * server-side) and ON CONFLICT DO NOTHING, so a re-run after a crash inserts only what is missing.
 */
export const lookupsSeed: TemplateSeed = {
  name: 'lookups',
  async run(query) {
    await query(
      `INSERT INTO countries (alpha2, alpha3, numeric_code, name)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT DO NOTHING`,
      [
        COUNTRIES.map((c) => c.alpha2),
        COUNTRIES.map((c) => c.alpha3),
        COUNTRIES.map((c) => c.numeric),
        COUNTRIES.map((c) => c.name),
      ],
    );
    await query(
      `INSERT INTO currencies (code, numeric_code, name, minor_unit)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[])
       ON CONFLICT DO NOTHING`,
      [
        CURRENCIES.map((c) => c.code),
        CURRENCIES.map((c) => c.numeric),
        CURRENCIES.map((c) => c.name),
        CURRENCIES.map((c) => c.minorUnit),
      ],
    );
  },
};
