import {
  DatabaseError,
  Query,
  type Connection,
  type Pool,
  type PoolClient,
  type QueryResultRow,
  type ResultBuilder,
} from 'pg';

/**
 * The two methods of node-postgres' own `Query` this class builds on. They are not in @types/pg,
 * but they are how every extended-protocol query is sent and answered (pg 7 through 8), and the
 * transaction and isolation suites exercise both on every run.
 */
interface QueryProtocolHooks {
  /** Writes Parse/Bind/Describe/Execute and, last, `connection.sync()`. */
  prepare(connection: Connection): void;
  /** Records a CommandComplete as the end of this query's result. */
  handleCommandComplete(message: unknown, connection: Connection): void;
  /** Parses a DataRow into the result. */
  handleDataRow(message: unknown): void;
}

const pgQuery = Query.prototype as unknown as QueryProtocolHooks;

/**
 * A fixed statement PostgreSQL parses and plans once per connection: sent as Parse of a named
 * statement the first time a connection carries it, then only as Bind + Execute with `values`.
 * Needs a session of its own per connection: behind a pooler that hands one client connection
 * several server sessions (PgBouncer in transaction mode before 1.21) the name may be missing
 * (`26000`) or already taken (`42P05`); see isPreparedStatementMismatch.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
  readonly values: readonly string[];
}

/** A statement sent ahead of the batch's own: plain SQL text, or a PreparedStatement. */
export type FixedStatement = string | PreparedStatement;

const INVALID_SQL_STATEMENT_NAME = '26000';
const DUPLICATE_PREPARED_STATEMENT = '42P05';
const FEATURE_NOT_SUPPORTED = '0A000';

/**
 * The batch's own statement as a named statement of its session, parsed once per connection
 * (`name`), as long as the connection holds fewer than `maxPerConnection` tenant statements;
 * past that it is sent unnamed, parsed every time.
 */
export interface NamedStatement {
  readonly name: string;
  readonly maxPerConnection: number;
}

/** The fixed statements each connection has been sent a Parse for (its session holds them). */
const parsedOn = new WeakMap<Connection, Set<string>>();

/**
 * True when PostgreSQL refused a prepared fixed statement by its name: the session did not hold
 * it, or already did. With the names and texts used only here, that means a pooler gave this
 * connection another server session than the one it prepared on.
 */
export function isPreparedStatementMismatch(error: unknown): boolean {
  return (
    error instanceof DatabaseError &&
    (error.code === INVALID_SQL_STATEMENT_NAME || error.code === DUPLICATE_PREPARED_STATEMENT)
  );
}

/**
 * True when PostgreSQL refused to run a named statement because a schema change since it was
 * prepared changed what it returns ("cached plan must not change result type"). The session
 * keeps refusing it, so the connection must go; a new one prepares it afresh.
 */
export function isStalePreparedPlan(error: unknown): boolean {
  return (
    error instanceof DatabaseError &&
    error.code === FEATURE_NOT_SUPPORTED &&
    error.message.startsWith('cached plan must not change result type')
  );
}

/** A connection's set in one of the records below, made on first use. */
function namesOn(records: WeakMap<Connection, Set<string>>, connection: Connection): Set<string> {
  let names = records.get(connection);
  if (!names) {
    names = new Set();
    records.set(connection, names);
  }
  return names;
}

/** The tenant statements a connection's session holds (the fixed ones are not counted here). */
const tenantStatementsOn = new WeakMap<Connection, Set<string>>();

/**
 * Tenant statements whose first Parse went out in a batch that failed: the session holds them if
 * the Parse itself succeeded (the error came later, at Bind or Execute), or not. Their next
 * batch sends Close before Parse; closing a statement the session does not hold is no error.
 */
const unsureOn = new WeakMap<Connection, Set<string>>();

/** node-postgres' own record of a connection's named statements (not in @types/pg). */
interface NamedStatementBookkeeping {
  parsedStatements: Record<string, string | undefined>;
  submittedNamedStatements: Record<string, string | undefined>;
}

/**
 * Fixed statements (the tenant's settings) and then one statement, all in ONE extended-protocol
 * batch closed by a single Sync, which PostgreSQL runs as ONE implicit transaction.
 *
 * Why one Sync: PostgreSQL flushes its answers at every ReadyForQuery, i.e. once per Sync or
 * simple Query. Sent as separate messages, a transaction came back as several packets; the
 * connection stayed checked out until the event loop had read the last of them, which under
 * load is one or two extra loop turns per request, with the pool's ten connections all busy and
 * requests queueing for them. One Sync: one packet, one read.
 *
 * Why no BEGIN and COMMIT: every Execute before a Sync runs in the same transaction, which the
 * Sync commits (or, after an error, which PostgreSQL has already rolled back). Transaction-local
 * settings (`set_config(..., true)`) made by the first statement therefore hold for the second
 * and die at the Sync, exactly as between BEGIN and COMMIT, and a deferred constraint still fails
 * the batch at its end. Each statement PostgreSQL need not parse and run saves backend CPU on
 * every tenant request (bench/README.md, "PostgreSQL CPU per request").
 *
 * If any statement fails, PostgreSQL rolls the transaction back at once and skips everything up
 * to the Sync; the caller sees that error and the connection is idle and clean again (no
 * ROLLBACK to send). Only the last statement's rows and command tag make up the result; rows of
 * the fixed statements are dropped (they are sent without Describe, so they come without a
 * RowDescription either). None of the statements may be transaction control: a BEGIN would turn
 * the batch into a transaction left open after the Sync (assertTenantStatement refuses them).
 *
 * The statement itself is sent exactly as node-postgres sends any extended query (its own
 * `prepare`, including parameter serialisation and the Sync).
 */
export class TransactionBatchQuery<R extends QueryResultRow> extends Query<R> {
  /** CommandCompletes seen so far; the statement's is the one after the `before` statements'. */
  private completions = 0;
  /** Whether this batch carries the first Parse of a fixed named statement on its connection. */
  parsesNamedStatement = false;
  /** The tenant statement this batch sends a Parse for, and its connection's records. */
  private firstParse?: { name: string; parsed: Set<string>; unsure: Set<string> };

  constructor(
    private readonly before: readonly FixedStatement[],
    text: string,
    values: unknown[],
    callback: (error: Error | undefined, result: ResultBuilder<R>) => void,
    private readonly named?: NamedStatement,
    private readonly statementText = text,
  ) {
    // Text and values by position: a config object would be deep-copied by node-postgres
    // (property descriptors and all, a few µs per request).
    super(text, values, callback);
    // The extended protocol always, even without parameters: only then is `prepare` called.
    (this as { queryMode?: string }).queryMode = 'extended';
  }

  /** Called by `Query.submit` with the socket corked: the whole batch leaves in one write. */
  prepare(connection: Connection): void {
    for (const statement of this.before) {
      if (typeof statement === 'string') sendStatement(connection, statement);
      else this.sendPrepared(connection, statement);
    }
    if (this.named) this.nameStatement(connection, this.named);
    pgQuery.prepare.call(this, connection);
  }

  /**
   * Names the statement when its connection holds it already or has room for it. Whether a
   * Parse goes out is decided here, from this module's record of the session, and node-postgres'
   * own record is set to match: its record cannot tell a statement whose batch failed after the
   * Parse (held) from one whose Parse failed (not held).
   */
  private nameStatement(connection: Connection, named: NamedStatement): void {
    const parsed = namesOn(tenantStatementsOn, connection);
    const unsure = namesOn(unsureOn, connection);
    const { name } = named;
    const pgRecord = connection as unknown as NamedStatementBookkeeping;
    if (parsed.has(name)) {
      pgRecord.parsedStatements[name] = this.statementText;
    } else {
      if (!unsure.has(name) && parsed.size + unsure.size >= named.maxPerConnection) return;
      if (unsure.has(name)) connection.close({ type: 'S', name }, false);
      delete pgRecord.parsedStatements[name];
      delete pgRecord.submittedNamedStatements[name];
      this.firstParse = { name, parsed, unsure };
    }
    (this as { name?: string }).name = name;
  }

  /** Records what the session now holds, once PostgreSQL answered the batch. */
  settle(succeeded: boolean): void {
    const first = this.firstParse;
    if (!first) return;
    if (succeeded) {
      first.parsed.add(first.name);
      first.unsure.delete(first.name);
    } else {
      first.unsure.add(first.name);
    }
  }

  private sendPrepared(connection: Connection, statement: PreparedStatement): void {
    const parsed = namesOn(parsedOn, connection);
    if (!parsed.has(statement.name)) {
      // Counted as parsed from here on: a batch that fails after this Parse loses its connection
      // (queryInOneBatch), so a session never holds a name this set does not, or the reverse.
      connection.parse({ name: statement.name, text: statement.text, types: [] }, false);
      parsed.add(statement.name);
      this.parsesNamedStatement = true;
    }
    connection.bind({ statement: statement.name, values: [...statement.values] }, false);
    connection.execute({}, false);
  }

  handleCommandComplete(message: unknown, connection: Connection): void {
    const index = this.completions++;
    if (index === this.before.length) pgQuery.handleCommandComplete.call(this, message, connection);
  }

  /** Rows of the fixed statements (a `SELECT set_config(...)`) are not the statement's. */
  handleDataRow(message: unknown): void {
    if (this.completions === this.before.length) pgQuery.handleDataRow.call(this, message);
  }
}

/** Parse + Bind + Execute of a parameterless statement in the unnamed statement and portal. */
function sendStatement(connection: Connection, text: string): void {
  connection.parse({ name: '', text, types: [] }, false);
  connection.bind({}, false);
  connection.execute({}, false);
}

/**
 * `sql` after the fixed statements `before` (the transaction's settings), as one
 * TransactionBatchQuery on a connection of `pool`: one implicit transaction, one packet out, one
 * back. An error PostgreSQL reported at severity ERROR leaves the connection idle (the server
 * rolled back at once); any other error (FATAL, the connection broke, a parameter could not be
 * serialised) may have left it anywhere, so that connection is destroyed instead of going back
 * to the pool. So is one whose failed batch carried the first Parse of a named statement, or
 * that was refused one by name: whether its session holds the statement is then unknown; and
 * one whose named statement a schema change made stale (isStalePreparedPlan).
 */
export async function queryInOneBatch<R extends QueryResultRow>(
  pool: Pool,
  before: readonly FixedStatement[],
  sql: string,
  params: unknown[],
  named?: NamedStatement,
): Promise<R[]> {
  const client = await pool.connect();
  let destroyConnection = true;
  let batch: TransactionBatchQuery<R> | undefined;
  try {
    const rows = await new Promise<R[]>((resolve, reject) => {
      batch = new TransactionBatchQuery<R>(
        before,
        sql,
        params,
        (error, result) => (error ? reject(error) : resolve(result.rows)),
        named,
      );
      client.query(batch);
    });
    destroyConnection = false;
    batch?.settle(true);
    return rows;
  } catch (error) {
    batch?.settle(false);
    // ERROR: that statement failed, the session is fine. FATAL or PANIC: the server is closing it.
    destroyConnection =
      !(error instanceof DatabaseError && error.severity === 'ERROR') ||
      batch?.parsesNamedStatement === true ||
      isPreparedStatementMismatch(error) ||
      isStalePreparedPlan(error);
    throw error;
  } finally {
    client.release(destroyConnection);
  }
}

/** Returns false when the connection could not roll back and must not be reused. */
export async function rollbackQuietly(client: PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
