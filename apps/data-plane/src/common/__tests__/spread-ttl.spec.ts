import { spreadTtl } from '../spread-ttl';

describe('spreadTtl', () => {
  it('draws between three quarters of the TTL and the whole of it', () => {
    expect(spreadTtl(30_000, () => 0)).toBe(22_500);
    expect(spreadTtl(30_000, () => 0.5)).toBe(26_250);
    expect(spreadTtl(30_000, () => 0.999_999)).toBe(30_000);
  });

  it('spreads entries loaded together over that quarter', () => {
    const drawn = Array.from({ length: 1_000 }, () => spreadTtl(30_000));
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(22_500);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(30_000);
    // 1,000 uniform draws: both ends of the quarter are reached within 5 %.
    expect(Math.min(...drawn)).toBeLessThan(22_900);
    expect(Math.max(...drawn)).toBeGreaterThan(29_600);
  });
});
