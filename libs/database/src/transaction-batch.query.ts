import {
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
 * One statement between fixed statements (`BEGIN ...` and the tenant's settings before, `COMMIT` after), all
 * in ONE extended-protocol batch closed by a single Sync.
 *
 * Why one Sync: PostgreSQL flushes its answers at every ReadyForQuery, i.e. once per Sync or
 * simple Query. Sent as three messages (BEGIN..., the statement, COMMIT), a transaction came
 * back as three packets; the connection stayed checked out until the event loop had read the
 * last of them, which under load is one or two extra loop turns per request, with the pool's
 * ten connections all busy and requests queueing for them. One Sync: one packet, one read.
 *
 * Semantics stay those of separate statements: each runs as its own Execute, in order, inside
 * the explicit transaction the first one opens. If any fails, PostgreSQL skips everything up to
 * the Sync, the caller sees that error, and the transaction is left open and failed, so the
 * caller must roll back (as it must after any failed transaction). Only the middle statement's
 * rows and command tag make up the result; rows of the fixed statements are dropped (they are
 * sent without Describe, so they come without a RowDescription either).
 *
 * The statement itself is sent exactly as node-postgres sends any extended query (its own
 * `prepare`, including parameter serialisation); only its closing Sync is preceded by the
 * statements that come after it.
 */
export class TransactionBatchQuery<R extends QueryResultRow> extends Query<R> {
  /** CommandCompletes seen so far; the statement's is the one after the `before` statements'. */
  private completions = 0;

  constructor(
    private readonly before: readonly string[],
    text: string,
    values: unknown[],
    private readonly after: readonly string[],
    callback: (error: Error | undefined, result: ResultBuilder<R>) => void,
  ) {
    // Text and values by position: a config object would be deep-copied by node-postgres
    // (property descriptors and all, a few µs per request).
    super(text, values, callback);
    // The extended protocol always, even without parameters: only then is `prepare` called.
    (this as { queryMode?: string }).queryMode = 'extended';
  }

  /** Called by `Query.submit` with the socket corked: the whole batch leaves in one write. */
  prepare(connection: Connection): void {
    for (const text of this.before) sendStatement(connection, text);
    const after = this.after;
    // The statement's own Sync comes last; the `after` statements go just before it.
    const syncAfterTheRest = Object.create(connection, {
      sync: {
        value: () => {
          for (const text of after) sendStatement(connection, text);
          connection.sync();
        },
      },
    }) as Connection;
    pgQuery.prepare.call(this, syncAfterTheRest);
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
 * `sql` between the fixed statements `before` (BEGIN and settings) and `after` (COMMIT), as one
 * TransactionBatchQuery on a connection of `pool`: one packet out, one back. If anything fails,
 * the transaction is rolled back here and the error thrown; a connection that cannot even roll
 * back is destroyed instead of going back to the pool.
 */
export async function queryInOneBatch<R extends QueryResultRow>(
  pool: Pool,
  before: readonly string[],
  sql: string,
  params: unknown[],
  after: readonly string[],
): Promise<R[]> {
  const client = await pool.connect();
  let destroyConnection = true;
  try {
    const rows = await new Promise<R[]>((resolve, reject) => {
      client.query(
        new TransactionBatchQuery<R>(before, sql, params, after, (error, result) =>
          error ? reject(error) : resolve(result.rows),
        ),
      );
    });
    destroyConnection = false;
    return rows;
  } catch (error) {
    // Unless the connection itself broke, it is in a failed (or no) transaction: roll back.
    destroyConnection = !(await rollbackQuietly(client));
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
