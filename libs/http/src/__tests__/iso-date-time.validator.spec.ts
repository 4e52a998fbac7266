import { validateSync } from 'class-validator';
import { IsIsoDateTime } from '../iso-date-time.validator';

class Probe {
  @IsIsoDateTime()
  at!: unknown;
}

const problems = (at: unknown) =>
  validateSync(Object.assign(new Probe(), { at })).map((error) => error.constraints);

describe('IsIsoDateTime', () => {
  it.each(['2026-01-01T00:00:00Z', '2026-01-01T10:20:30.123+02:00', '2026-01-01', '2026'])(
    'accepts %s',
    (value) => {
      expect(problems(value)).toEqual([]);
    },
  );

  it.each([
    ['an ordinal date Date cannot read', '1000001'],
    ['a week date', '2026-W01'],
    ['the basic format', '20260101T000000Z'],
    ['an impossible day', '2026-02-30'],
    ['text', 'yesterday'],
    ['a number', 1767225600000],
    ['null', null],
  ])('refuses %s, naming the property', (_label, value) => {
    expect(problems(value)).toEqual([{ isIsoDateTime: 'at must be an ISO 8601 date-time' }]);
  });
});
