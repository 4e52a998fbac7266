import { ValidateBy } from 'class-validator';

/**
 * Control characters (C0, DEL, C1), line and paragraph separators, and the invisible marks that
 * reorder text (bidi embeddings, overrides, isolates): in a name shown in a list or a download
 * dialog they hide what the name really is (`invoice\u202Efdp.exe` displays as `invoiceexe.pdf`).
 */
export const CONTROL_CHARACTER =
  /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** A one-line name shown to people (a project's name): none of CONTROL_CHARACTER in it. */
export function NoControlCharacters(): PropertyDecorator {
  return ValidateBy({
    name: 'no-control-character',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !CONTROL_CHARACTER.test(value),
      defaultMessage: (args) =>
        `${args?.property ?? 'value'} must not contain control characters, line breaks or bidi marks`,
    },
  });
}
