import { BadRequestException } from '@nestjs/common';
import { LimitOverridesPipe, limitOverridesProblems } from '../limit-overrides.pipe';

describe('limitOverridesProblems', () => {
  it('accepts known limits with non-negative integers or null', () => {
    expect(
      limitOverridesProblems({
        requestsPerMinute: 0,
        requestsPerMinutePerUser: 12,
        maxUsers: null,
        maxProjects: 1_000_000,
        maxStorageBytes: 500 * 1024 ** 3,
      }),
    ).toBeNull();
  });

  it.each([
    [{ requestsPerMinute: -1 }, 'requestsPerMinute', 'non-negative-integer'],
    [{ requestsPerMinute: 2.5 }, 'requestsPerMinute', 'non-negative-integer'],
    [{ requestsPerMinute: '5' }, 'requestsPerMinute', 'non-negative-integer'],
    [{ requestsPerMinute: true }, 'requestsPerMinute', 'non-negative-integer'],
    [{ maxStorageBytes: Number.MAX_SAFE_INTEGER + 2 }, 'maxStorageBytes', 'non-negative-integer'],
    [{ maxStorageBytes: { value: 1 } }, 'maxStorageBytes', 'non-negative-integer'],
    [{ requestsPerHour: 1 }, 'requestsPerHour', 'unknown-limit'],
    [JSON.parse('{"__proto__": 1}') as unknown, '__proto__', 'unknown-limit'],
    [{ constructor: 1 }, 'constructor', 'unknown-limit'],
    [{}, '(body)', 'not-empty'],
    [null, '(body)', 'object'],
    [[{ maxUsers: 1 }], '(body)', 'object'],
    ['maxUsers=1', '(body)', 'object'],
  ])('refuses %j naming %s (%s)', (body, field, rule) => {
    expect(limitOverridesProblems(body)).toEqual([{ field, rule, message: expect.any(String) }]);
  });

  it('names every wrong field at once', () => {
    const problems = limitOverridesProblems({ maxUsers: -1, nope: 1, maxProjects: 3 });
    expect(problems?.map((problem) => problem.field)).toEqual(['maxUsers', 'nope']);
  });
});

describe('LimitOverridesPipe', () => {
  it('passes a valid body through and answers anything else in the validation shape', () => {
    const pipe = new LimitOverridesPipe();
    expect(pipe.transform({ maxUsers: 3 })).toEqual({ maxUsers: 3 });
    try {
      pipe.transform({ maxUsers: -3 });
      throw new Error('no exception');
    } catch (error) {
      expect(error).toBeInstanceOf(BadRequestException);
      expect((error as BadRequestException).getResponse()).toEqual({
        error: 'validation_failed',
        message: expect.stringContaining('maxUsers'),
        details: [{ field: 'maxUsers', rule: 'non-negative-integer', message: expect.any(String) }],
      });
    }
  });
});
