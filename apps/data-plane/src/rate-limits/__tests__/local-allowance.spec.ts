import { LocalAllowance, VIEW_FRESH_MS } from '../local-allowance';

const KEY = 'rl:tenant:a';

function allowanceAt(start = 1_000_000) {
  const clock = { now: start };
  return { allowance: new LocalAllowance(() => clock.now), clock };
}

/** Admits until refused; how many were admitted. */
function admitAll(allowance: LocalAllowance, limit: number, key = KEY): number {
  let admitted = 0;
  while (allowance.tryAdmit(key, limit)) admitted += 1;
  return admitted;
}

describe('LocalAllowance', () => {
  it("asks Redis first: no view of a key's count, no admission from memory", () => {
    const { allowance } = allowanceAt();
    expect(allowance.tryAdmit(KEY, 600)).toBeNull();
  });

  it('admits up to 5 % of the limit between two answers, reporting what is left', () => {
    const { allowance } = allowanceAt();
    allowance.synced(KEY, 10, 30_000);
    expect(allowance.tryAdmit(KEY, 600)).toEqual({ remaining: 589, resetMs: 30_000 });
    expect(admitAll(allowance, 600)).toBe(29);
    expect(allowance.takePending(KEY)).toBe(30);
    // Counted in Redis (the answer says so): the next 30 may go.
    allowance.synced(KEY, 40, 29_000);
    expect(admitAll(allowance, 600)).toBe(30);
  });

  it('stops at half the limit, counting what it admitted and not yet sent', () => {
    const { allowance } = allowanceAt();
    allowance.synced(KEY, 290, 30_000);
    // 290 + 10 = 300 = half of 600; the 11th would pass it.
    expect(admitAll(allowance, 600)).toBe(10);
    expect(allowance.takePending(KEY)).toBe(10);
    allowance.synced(KEY, 300, 30_000);
    expect(allowance.tryAdmit(KEY, 600)).toBeNull();
  });

  it('never admits from memory under a limit of 20 (small limits stay exact)', () => {
    const { allowance } = allowanceAt();
    allowance.synced(KEY, 0, 30_000);
    expect(allowance.tryAdmit(KEY, 19)).toBeNull();
    expect(allowance.tryAdmit(KEY, 0)).toBeNull();
    expect(allowance.tryAdmit(KEY, 20)).not.toBeNull();
  });

  it('does not trust a view older than VIEW_FRESH_MS', () => {
    const { allowance, clock } = allowanceAt();
    allowance.synced(KEY, 0, 30_000);
    clock.now += VIEW_FRESH_MS + 1;
    expect(allowance.tryAdmit(KEY, 600)).toBeNull();
    allowance.synced(KEY, 1, 28_000);
    expect(allowance.tryAdmit(KEY, 600)).toEqual({ remaining: 598, resetMs: 28_000 });
  });

  it('trusts a view of 25 s, and reports the reset of the window running by then', () => {
    const { allowance, clock } = allowanceAt();
    allowance.synced(KEY, 100, 10_000);
    clock.now += 25_000;
    // The window Redis reported ended 15 s ago; the next one ends 45 s from now.
    expect(allowance.tryAdmit(KEY, 600)).toEqual({ remaining: 499, resetMs: 45_000 });
  });

  it('hands every pending key over once for a flush, and keeps keys apart', () => {
    const { allowance } = allowanceAt();
    allowance.synced('a', 0, 30_000);
    allowance.synced('b', 0, 30_000);
    allowance.tryAdmit('a', 600);
    allowance.tryAdmit('a', 600);
    allowance.tryAdmit('b', 100);
    expect(allowance.takeAllPending().sort()).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(allowance.takeAllPending()).toEqual([]);
    expect(allowance.takePending('a')).toBe(0);
  });

  it('a key handed over on its own is not flushed again', () => {
    const { allowance } = allowanceAt();
    allowance.synced(KEY, 0, 30_000);
    allowance.tryAdmit(KEY, 600);
    expect(allowance.takePending(KEY)).toBe(1);
    expect(allowance.takeAllPending()).toEqual([]);
  });

  it('forgets stale views with nothing pending, keeps the rest', () => {
    const { allowance, clock } = allowanceAt();
    allowance.synced('old', 0, 30_000);
    allowance.synced('old-pending', 0, 30_000);
    allowance.tryAdmit('old-pending', 600);
    clock.now += VIEW_FRESH_MS + 1;
    allowance.synced('fresh', 0, 30_000);
    allowance.prune();
    expect(allowance.size).toBe(2);
    expect(allowance.takeAllPending()).toEqual([['old-pending', 1]]);
  });
});
