/** Distinct statement texts given a name; past this, new texts are sent unnamed (unbounded SQL). */
const MAX_NAMED_TEXTS = 1_000;

/**
 * Names for the tenants' own prepared statements: one per statement text and tenant schema, so
 * that a plan PostgreSQL made for one tenant's tables is never run for another's (it would fail
 * anyway: every transaction acts as its tenant's role, which has no privilege on the other's
 * tables). A text's number is fixed for the life of the process; the name is
 * `tq<number>_<schema>`, at most 44 characters (PostgreSQL keeps 63).
 */
export class TenantStatementNames {
  private readonly numbers = new Map<string, string>();

  /** The statement's name for this schema, or null when it is to be sent unnamed. */
  nameOf(sql: string, schemaName: string): string | null {
    let number = this.numbers.get(sql);
    if (number === undefined) {
      // Statements are the repositories' fixed texts; one built from data (a list of values
      // spelled into the SQL) would add a name per request, so the count is capped.
      if (this.numbers.size >= MAX_NAMED_TEXTS) return null;
      number = this.numbers.size.toString(36);
      this.numbers.set(sql, number);
    }
    return `tq${number}_${schemaName}`;
  }
}
