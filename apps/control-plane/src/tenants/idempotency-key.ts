import { BadRequestException } from '@nestjs/common';

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/** Idempotency-Key: optional, printable ASCII without spaces, at most 200 characters. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!KEY_PATTERN.test(value)) {
    throw new BadRequestException({
      error: 'validation_failed',
      message: 'Idempotency-Key must be 1-200 printable ASCII characters without spaces',
      details: [{ field: 'Idempotency-Key', rule: 'format', message: 'invalid header' }],
    });
  }
  return value;
}
