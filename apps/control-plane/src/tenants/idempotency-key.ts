import { BadRequestException } from '@nestjs/common';

const IDEMPOTENCY_KEY_MAX_LENGTH = 200;

interface KeyProblem {
  rule: string;
  message: string;
}

/** Idempotency-Key: optional, printable ASCII without spaces, at most 200 characters. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const problem = findKeyProblem(value);
  if (problem) {
    throw new BadRequestException({
      error: 'validation_failed',
      message: `Idempotency-Key ${problem.message}`,
      details: [{ field: 'Idempotency-Key', ...problem }],
    });
  }
  return value;
}

// The caller needs to know which of the rules the key broke to fix its client, so the
// refusal names the first offending character by position rather than echoing the key.
function findKeyProblem(value: string): KeyProblem | undefined {
  if (value.length === 0) return { rule: 'notEmpty', message: 'must not be empty' };
  if (value.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    return {
      rule: 'maxLength',
      message: `must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters (got ${value.length})`,
    };
  }
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code === 0x20) {
      return { rule: 'noSpaces', message: `must not contain spaces (position ${index + 1})` };
    }
    if (code < 0x21 || code > 0x7e) {
      return {
        rule: 'printableAscii',
        message: `must hold printable ASCII characters only (position ${index + 1})`,
      };
    }
  }
  return undefined;
}
