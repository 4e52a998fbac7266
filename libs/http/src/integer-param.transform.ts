import { Transform } from 'class-transformer';

// An optional sign and up to 15 digits: every integer of that form is exact in a double (16
// digits reach past 2^53, where '9007199254740993' would be read as another number).
const DECIMAL_INTEGER = /^-?\d{1,15}$/;

/**
 * Reads a query-string integer as written in decimal digits only. `Number()` (class-transformer's
 * `@Type(() => Number)`) reads '' and ' ' as 0, '0x10' as 16 and '1e3' as 1000, so `?limit=` was
 * refused as "less than 1" and `?offset=1e3` was taken; any other text is now left as it came for
 * `@IsInt()` to refuse as not an integer.
 */
export function IntegerParam(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && DECIMAL_INTEGER.test(value) ? Number(value) : value,
  );
}
