/** The one shape every 4xx/5xx body has on both apps: a stable code and a sentence for people. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly details?: readonly FieldProblem[];
  /** On a 500 only: what to quote to find the log line (never the cause itself). */
  readonly requestId?: string;
}

export interface FieldProblem {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}
