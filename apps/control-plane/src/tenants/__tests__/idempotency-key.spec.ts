import { BadRequestException } from '@nestjs/common';
import { parseIdempotencyKey } from '../idempotency-key';

function refusalOf(value: string): { message: string; details: unknown[] } {
  try {
    parseIdempotencyKey(value);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).getResponse() as { message: string; details: unknown[] };
  }
  throw new Error(`key ${JSON.stringify(value)} was accepted`);
}

describe('parseIdempotencyKey', () => {
  it('passes an absent header through as absent', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it('accepts printable ASCII up to 200 characters', () => {
    const key = `a-${'!~'.repeat(99)}`;
    expect(key).toHaveLength(200);
    expect(parseIdempotencyKey(key)).toBe(key);
  });

  it.each([
    ['', 'notEmpty', 'Idempotency-Key must not be empty'],
    ['k'.repeat(201), 'maxLength', 'Idempotency-Key must be at most 200 characters (got 201)'],
    ['my key', 'noSpaces', 'Idempotency-Key must not contain spaces (position 3)'],
    [
      'key\tvalue',
      'printableAscii',
      'Idempotency-Key must hold printable ASCII characters only (position 4)',
    ],
    [
      'clé',
      'printableAscii',
      'Idempotency-Key must hold printable ASCII characters only (position 3)',
    ],
    [
      'a\x7f',
      'printableAscii',
      'Idempotency-Key must hold printable ASCII characters only (position 2)',
    ],
  ])('refuses %j naming the rule %s', (key, rule, message) => {
    const refusal = refusalOf(key);
    expect(refusal.message).toBe(message);
    expect(refusal.details).toEqual([
      { field: 'Idempotency-Key', rule, message: message.replace('Idempotency-Key ', '') },
    ]);
  });
});
