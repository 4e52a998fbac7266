import { BadRequestException, type ArgumentMetadata } from '@nestjs/common';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IntegerParam } from '../integer-param.transform';
import { strictValidationPipe } from '../validation.pipe';

class PageLike {
  @IsOptional()
  @IntegerParam()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}

class NeedsSearch {
  @IsString()
  q!: string;
}

/** Declared type first, as every DTO of the apps is. */
class Titled {
  @IsString()
  @MinLength(1)
  @MaxLength(5)
  title!: string;

  @IsOptional()
  @IsInt()
  @Max(10)
  rank?: number;
}

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
  type: 'body',
  metatype,
  data: undefined,
});

/** The `details` of the 400 the pipe throws for `value`. */
async function refusal(
  value: unknown,
  metadata: ArgumentMetadata,
): Promise<{ field: string; rule: string; message: string }[]> {
  try {
    await strictValidationPipe().transform(value, metadata);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return ((error as BadRequestException).getResponse() as { details: never[] }).details;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

const query = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
  type: 'query',
  metatype,
  data: undefined,
});

describe('strictValidationPipe', () => {
  it('answers an empty query with a fresh instance of its defaults, every time', async () => {
    const pipe = strictValidationPipe();
    const first = await pipe.transform({}, query(PageLike));
    const second = await pipe.transform({}, query(PageLike));
    expect(first).toBeInstanceOf(PageLike);
    expect(second).toEqual({ limit: 20 });
    // Not one shared object: a handler that changes its query cannot change the next one's.
    expect(second).not.toBe(first);
  });

  it('still validates every query that is not empty, after an empty one', async () => {
    const pipe = strictValidationPipe();
    await pipe.transform({}, query(PageLike));
    await expect(pipe.transform({ limit: '0' }, query(PageLike))).rejects.toBeInstanceOf(
      BadRequestException,
    );
    await expect(pipe.transform({ extra: '1' }, query(PageLike))).rejects.toBeInstanceOf(
      BadRequestException,
    );
    expect(await pipe.transform({ limit: '5' }, query(PageLike))).toEqual({ limit: 5 });
  });

  it('keeps refusing an empty query its DTO does not accept', async () => {
    const pipe = strictValidationPipe();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(pipe.transform({}, query(NeedsSearch))).rejects.toBeInstanceOf(
        BadRequestException,
      );
    }
  });

  it('validates an empty body as always (only queries take the short way)', async () => {
    const pipe = strictValidationPipe();
    const body: ArgumentMetadata = { type: 'body', metatype: NeedsSearch, data: undefined };
    await expect(pipe.transform({}, body)).rejects.toBeInstanceOf(BadRequestException);
    await expect(pipe.transform({}, body)).rejects.toBeInstanceOf(BadRequestException);
  });

  describe('names, for each field, the first broken rule its DTO declares', () => {
    it('a value of the wrong type breaks the type rule, not a range or length rule', async () => {
      expect(await refusal({ limit: 'abc' }, query(PageLike))).toEqual([
        { field: 'limit', rule: 'isInt', message: 'limit must be an integer number' },
      ]);
      expect(await refusal({ title: ['x'] }, body(Titled))).toEqual([
        { field: 'title', rule: 'isString', message: 'title must be a string' },
      ]);
      expect(await refusal({}, body(Titled))).toEqual([
        { field: 'title', rule: 'isString', message: 'title must be a string' },
      ]);
    });

    it('a value of the right type is refused by the rule it breaks', async () => {
      expect(await refusal({ limit: '500' }, query(PageLike))).toMatchObject([
        { field: 'limit', rule: 'max' },
      ]);
      expect(await refusal({ limit: '0' }, query(PageLike))).toMatchObject([
        { field: 'limit', rule: 'min' },
      ]);
      expect(await refusal({ title: 'too long' }, body(Titled))).toMatchObject([
        { field: 'title', rule: 'maxLength' },
      ]);
      expect(await refusal({ title: '' }, body(Titled))).toMatchObject([
        { field: 'title', rule: 'minLength' },
      ]);
    });

    it('reads a query integer from decimal digits only: other text is not an integer', async () => {
      for (const text of ['', ' ', '0x10', '1e1', '1.5', '+5', '5 ', '1234567890123456']) {
        expect(await refusal({ limit: text }, query(PageLike))).toEqual([
          { field: 'limit', rule: 'isInt', message: 'limit must be an integer number' },
        ]);
      }
      expect(await refusal({ limit: ['5', '6'] }, query(PageLike))).toMatchObject([
        { field: 'limit', rule: 'isInt' },
      ]);
      expect(await refusal({ limit: '-3' }, query(PageLike))).toMatchObject([
        { field: 'limit', rule: 'min' },
      ]);
      expect(await strictValidationPipe().transform({ limit: '007' }, query(PageLike))).toEqual({
        limit: 7,
      });
    });

    it('refuses keys named after Object.prototype members as unknown, not drop them', async () => {
      for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
        const value = JSON.parse(`{"title":"ok","${key}":{"x":1}}`) as object;
        expect(await refusal(value, body(Titled))).toEqual([
          { field: key, rule: 'unknown-property', message: `${key} is not allowed` },
        ]);
      }
      expect(await refusal({ constructor: '1' }, query(PageLike))).toMatchObject([
        { field: 'constructor', rule: 'unknown-property' },
      ]);
    });

    it('names at most 20 problems, and says how many more there are', async () => {
      const value = Object.fromEntries(
        Array.from({ length: 30 }, (_, i) => [`extra${String(i).padStart(2, '0')}`, i]),
      );
      let response: { message: string; details: unknown[] } | undefined;
      try {
        await strictValidationPipe().transform({ title: 'ok', ...value }, body(Titled));
      } catch (error) {
        response = (error as BadRequestException).getResponse() as typeof response;
      }
      expect(response!.details).toHaveLength(20);
      expect(response!.message).toMatch(/^extra00 is not allowed; .*; and 10 more$/);
    });

    it('each broken field once, in one 400', async () => {
      expect(await refusal({ title: 7, rank: 'high', other: 1 }, body(Titled))).toEqual([
        { field: 'other', rule: 'unknown-property', message: 'other is not allowed' },
        { field: 'title', rule: 'isString', message: 'title must be a string' },
        { field: 'rank', rule: 'isInt', message: 'rank must be an integer number' },
      ]);
    });
  });
});
