import { TenantStatementNames } from '../tenant-statement-names';

const A = 't_0123456789abcdef0123456789abcdef';
const B = 't_fedcba9876543210fedcba9876543210';

describe('TenantStatementNames', () => {
  it('names a text the same way every time, and apart for each schema', () => {
    const names = new TenantStatementNames();
    const list = 'SELECT 1 FROM projects';
    expect(names.nameOf(list, A)).toBe(`tq0_${A}`);
    expect(names.nameOf(list, A)).toBe(`tq0_${A}`);
    expect(names.nameOf(list, B)).toBe(`tq0_${B}`);
    expect(names.nameOf('SELECT 2 FROM projects', A)).toBe(`tq1_${A}`);
  });

  it('stays within the 63 characters PostgreSQL keeps of a name', () => {
    const names = new TenantStatementNames();
    let last = '';
    for (let index = 0; index < 1_000; index += 1) last = names.nameOf(`SELECT ${index}`, A) ?? '';
    expect(last).toBe(`tqrr_${A}`);
    expect(last.length).toBeLessThanOrEqual(63);
  });

  it('names no more than 1,000 texts: the rest are sent unnamed', () => {
    const names = new TenantStatementNames();
    for (let index = 0; index < 1_000; index += 1) names.nameOf(`SELECT ${index}`, A);
    expect(names.nameOf('SELECT 1000', A)).toBeNull();
    // Texts named before keep their names.
    expect(names.nameOf('SELECT 7', B)).toBe(`tq7_${B}`);
  });

  it('names the same way past the names it keeps per text (more schemas than it holds)', () => {
    const names = new TenantStatementNames();
    const list = 'SELECT 1 FROM projects';
    const schema = (index: number) => `t_${index.toString(16).padStart(32, '0')}`;
    for (let index = 0; index < 20_001; index += 1) names.nameOf(list, schema(index));
    expect(names.nameOf(list, schema(0))).toBe(`tq0_${schema(0)}`);
    expect(names.nameOf(list, schema(20_000))).toBe(`tq0_${schema(20_000)}`);
    expect(names.nameOf('SELECT 2 FROM projects', schema(5))).toBe(`tq1_${schema(5)}`);
  });
});
