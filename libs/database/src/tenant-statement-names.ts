/** Distinct statement texts given a name; past this, new texts are sent unnamed (unbounded SQL). */
const MAX_NAMED_TEXTS = 1_000;

/**
 * Names for the tenants' own prepared statements: one per statement text and tenant schema, so
 * that a plan PostgreSQL made for one tenant's tables is never run for another's (it would fail
 * anyway: every transaction acts as its tenant's role, which has no privilege on the other's
 * tables). A text's number is fixed for the life of the process; the name is
 * `tq<number>_<schema>`, at most 44 characters (PostgreSQL keeps 63).
 */
/**
 * Names kept per text before that text's are built afresh (a replica serving more tenants than
 * this builds some names again; each is a few dozen bytes).
 */
const MAX_KEPT_NAMES_PER_TEXT = 20_000;

/** One text's number, and the names already built for it, by schema. */
interface NamedText {
  readonly prefix: string;
  readonly names: Map<string, string>;
}

export class TenantStatementNames {
  private readonly texts = new Map<string, NamedText>();

  /**
   * The statement's name for this schema, or null when it is to be sent unnamed. A name is built
   * once and then handed out as the same string: node-postgres looks it up in its records on
   * every request, and a string built afresh is hashed afresh each time (a CPU profile of
   * `npm run bench` showed it).
   */
  nameOf(sql: string, schemaName: string): string | null {
    let text = this.texts.get(sql);
    if (text === undefined) {
      // Statements are the repositories' fixed texts; one built from data (a list of values
      // spelled into the SQL) would add a name per request, so the count is capped.
      if (this.texts.size >= MAX_NAMED_TEXTS) return null;
      text = { prefix: `tq${this.texts.size.toString(36)}_`, names: new Map() };
      this.texts.set(sql, text);
    }
    let name = text.names.get(schemaName);
    if (name === undefined) {
      if (text.names.size >= MAX_KEPT_NAMES_PER_TEXT) text.names.clear();
      name = text.prefix + schemaName;
      text.names.set(schemaName, name);
    }
    return name;
  }
}
