/**
 * Every failure of the ACME port: the directory unreachable, the CA refusing a request, a
 * challenge found invalid (with the CA's detail), a solver failing. The message names the CA
 * (`ACME (<directoryUrl>): ...`) so an operator reading a job's error knows which system spoke;
 * the original error is kept as `cause`.
 */
export class AcmeError extends Error {
  override readonly name = 'AcmeError';

  constructor(
    readonly directoryUrl: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`ACME (${directoryUrl}): ${detail}`, options);
  }
}
