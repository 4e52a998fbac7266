import { ValidateBy, isISO8601, type ValidationOptions } from 'class-validator';

/**
 * An ISO 8601 date-time that JavaScript's Date reads too. ISO 8601 also allows forms Date
 * cannot parse (`1000001` as an ordinal date, `2026-W01`, the basic `20260101T000000Z`): those
 * became an Invalid Date, which the PostgreSQL driver sends as text the server refuses — a 500
 * instead of a 400. Use this rather than IsISO8601 for anything that ends up in a query.
 */
export function IsIsoDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoDateTime',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          isISO8601(value, { strict: true }) &&
          !Number.isNaN(Date.parse(value)),
        defaultMessage: () => '$property must be an ISO 8601 date-time',
      },
    },
    options,
  );
}
