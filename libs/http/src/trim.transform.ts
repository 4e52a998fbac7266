import { Transform } from 'class-transformer';

/**
 * Trims a string field before it is validated, so that `MinLength(1)` refuses a name of spaces
 * only and a stored name carries no stray blanks; a value of another type is left for the type
 * rule to refuse.
 */
export function Trim(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim() : value,
  );
}
