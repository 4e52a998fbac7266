/**
 * Every failure of a DNS driver. The onboarding saga shows the message to operators as the
 * failure reason, so it always starts with the system it talked to — `DNS (powerdns at
 * http://127.0.0.1:8081): connect ECONNREFUSED 127.0.0.1:8081` — and never contains a secret.
 */
export class DnsProviderError extends Error {
  override readonly name = 'DnsProviderError';

  constructor(
    readonly provider: string,
    /** Where the provider was reached: the API URL or the hosted zone. */
    readonly target: string,
    detail: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(`DNS (${provider} at ${target}): ${detail}`, { cause: options?.cause });
    this.status = options?.status;
  }

  /** The HTTP status the provider answered with, when it answered at all. */
  readonly status: number | undefined;
}
