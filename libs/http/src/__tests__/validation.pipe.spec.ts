import { BadRequestException, type ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { strictValidationPipe } from '../validation.pipe';

class PageLike {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}

class NeedsSearch {
  @IsString()
  q!: string;
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
});
