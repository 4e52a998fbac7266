import { DnsProviderError } from '../dns-provider.error';
import {
  isInZone,
  normalizeName,
  quoteTxt,
  sortRecordSets,
  unquoteTxt,
  validateValues,
  withTrailingDot,
} from '../dns-name.util';
import {
  DNS_RECORD_TYPES,
  type DnsProvider,
  type DnsRecordSet,
  type DnsRecordType,
} from '../dns.port';
import { KeyedMutex } from '../keyed-mutex.util';

/** Per-name locks never use this key (names are lower-case DNS names). */
const ZONE_WRITE_LOCK = ' zone writes';
const PATCH_ATTEMPTS = 4;
const PATCH_RETRY_BASE_MS = 50;

export interface PowerDnsDriverOptions {
  apiUrl: string;
  apiKey: string;
  /** PowerDNS's server id in API paths; always `localhost` for the authoritative server. */
  serverId?: string;
  zone: string;
  timeoutMs?: number;
}

interface PdnsRecord {
  content: string;
  disabled: boolean;
}

interface PdnsRrset {
  name: string;
  type: string;
  ttl: number;
  records: PdnsRecord[];
}

interface PdnsZone {
  rrsets?: PdnsRrset[];
}

type RrsetChange =
  | { name: string; type: DnsRecordType; changetype: 'DELETE' }
  | {
      name: string;
      type: DnsRecordType;
      changetype: 'REPLACE';
      ttl: number;
      records: PdnsRecord[];
    };

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_TXT_TTL = 60;
// PowerDNS answers 404 and 409 as plain text; other errors as {"error": "..."}.
const NOT_FOUND = 404;
const CONFLICT = 409;

/**
 * PowerDNS authoritative server through its HTTP API (v1). One zone per driver, created (kind
 * Native, no NS records of its own) on first use, so a fresh PowerDNS needs no manual step.
 */
export class PowerDnsDriver implements DnsProvider {
  readonly name = 'powerdns';
  private readonly apiUrl: string;
  private readonly zone: string;
  private readonly zoneUrl: string;
  private readonly timeoutMs: number;
  private readonly locks = new KeyedMutex();
  private zoneReady: Promise<void> | undefined;

  constructor(private readonly options: PowerDnsDriverOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.zone = normalizeName(options.zone);
    const server = encodeURIComponent(options.serverId ?? 'localhost');
    this.zoneUrl = `/api/v1/servers/${server}/zones/${encodeURIComponent(withTrailingDot(this.zone))}`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async upsertRecordSet(record: DnsRecordSet): Promise<void> {
    const name = this.nameInZone(record.name);
    const values = this.validate(record.type, record.values, record.ttl);
    await this.locks.run(name, () => this.replace(name, record.type, values, record.ttl));
  }

  async deleteRecordSet(name: string, type: DnsRecordType): Promise<void> {
    const fqdn = this.nameInZone(name);
    // PowerDNS answers 204 for a DELETE of a set that does not exist: idempotent by itself.
    await this.locks.run(fqdn, () =>
      this.patch({ name: withTrailingDot(fqdn), type, changetype: 'DELETE' }),
    );
  }

  async listRecordSets(name: string): Promise<DnsRecordSet[]> {
    const fqdn = this.nameInZone(name);
    await this.ensureZone();
    const query = `?rrset_name=${encodeURIComponent(withTrailingDot(fqdn))}`;
    const zone = (await this.request('GET', `${this.zoneUrl}${query}`)) as PdnsZone;
    const sets = (zone.rrsets ?? [])
      // Servers older than the rrset_name filter ignore it and return the whole zone. Compared
      // without normalizeName: a foreign name we could not write must not make the read throw.
      .filter((rrset) => rrset.name.toLowerCase().replace(/\.$/, '') === fqdn)
      .filter((rrset): rrset is PdnsRrset & { type: DnsRecordType } =>
        DNS_RECORD_TYPES.includes(rrset.type as DnsRecordType),
      )
      .map((rrset) => ({
        name: fqdn,
        type: rrset.type,
        ttl: rrset.ttl,
        values: rrset.records
          .filter((record) => !record.disabled)
          .map((record) => fromContent(rrset.type, record.content)),
      }))
      .filter((set) => set.values.length > 0);
    return sortRecordSets(sets);
  }

  async addTxtValue(name: string, value: string, ttl?: number): Promise<void> {
    const fqdn = this.nameInZone(name);
    this.validate('TXT', [value], ttl ?? DEFAULT_TXT_TTL);
    await this.locks.run(fqdn, async () => {
      const current = await this.currentSet(fqdn, 'TXT');
      const values = current?.values ?? [];
      // Already there with the wanted TTL: nothing to do (a retried ACME step lands here).
      if (values.includes(value) && (ttl === undefined || current?.ttl === ttl)) return;
      const nextTtl = ttl ?? current?.ttl ?? DEFAULT_TXT_TTL;
      await this.replace(fqdn, 'TXT', [...new Set([...values, value])], nextTtl);
    });
  }

  async removeTxtValue(name: string, value: string): Promise<void> {
    const fqdn = this.nameInZone(name);
    await this.locks.run(fqdn, async () => {
      const current = await this.currentSet(fqdn, 'TXT');
      if (!current || !current.values.includes(value)) return;
      const rest = current.values.filter((v) => v !== value);
      if (rest.length === 0) {
        await this.patch({ name: withTrailingDot(fqdn), type: 'TXT', changetype: 'DELETE' });
      } else {
        await this.replace(fqdn, 'TXT', rest, current.ttl);
      }
    });
  }

  /**
   * Reaches the API with the key and makes sure the zone exists (creating it, as any first
   * write would): after a successful check, writes can only fail on their own content.
   */
  async check(): Promise<void> {
    this.zoneReady = undefined;
    await this.ensureZone();
  }

  private async currentSet(fqdn: string, type: DnsRecordType): Promise<DnsRecordSet | undefined> {
    return (await this.listRecordSets(fqdn)).find((set) => set.type === type);
  }

  private async replace(
    fqdn: string,
    type: DnsRecordType,
    values: string[],
    ttl: number,
  ): Promise<void> {
    await this.patch({
      name: withTrailingDot(fqdn),
      type,
      changetype: 'REPLACE',
      ttl,
      records: values.map((value) => ({ content: toContent(type, value), disabled: false })),
    });
  }

  /**
   * Zone changes go one at a time per process, and a 5xx is retried a few times with jitter:
   * PowerDNS serialises writes to a zone in its backend, and some backends (sqlite, seen in the
   * onboarding bench: 28 of 40 concurrent PATCHes answered 500) refuse concurrent ones outright.
   * A PATCH replaces whole record sets, so repeating one is harmless.
   */
  private async patch(change: RrsetChange): Promise<void> {
    await this.ensureZone();
    await this.locks.run(ZONE_WRITE_LOCK, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.request('PATCH', this.zoneUrl, { rrsets: [change] });
          return;
        } catch (err) {
          const serverError =
            err instanceof DnsProviderError && err.status !== undefined && err.status >= 500;
          if (!serverError || attempt >= PATCH_ATTEMPTS) throw err;
          await new Promise((resolve) =>
            setTimeout(resolve, PATCH_RETRY_BASE_MS * 2 ** attempt * (0.5 + Math.random())),
          );
        }
      }
    });
  }

  /** Once per driver (and again after a failure); concurrent callers share one attempt. */
  private ensureZone(): Promise<void> {
    this.zoneReady ??= this.createZoneIfMissing().catch((err: unknown) => {
      this.zoneReady = undefined;
      throw err;
    });
    return this.zoneReady;
  }

  private async createZoneIfMissing(): Promise<void> {
    try {
      await this.request('GET', `${this.zoneUrl}?rrsets=false`);
      return;
    } catch (err) {
      if (!(err instanceof DnsProviderError) || err.status !== NOT_FOUND) throw err;
    }
    const zonesUrl = this.zoneUrl.slice(0, this.zoneUrl.lastIndexOf('/'));
    try {
      await this.request('POST', zonesUrl, {
        name: withTrailingDot(this.zone),
        kind: 'Native',
        nameservers: [],
      });
    } catch (err) {
      // Another process (or replica) created it between our GET and POST: that is the goal.
      if (!(err instanceof DnsProviderError) || err.status !== CONFLICT) throw err;
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl}${path}`, {
        method,
        headers: {
          'X-API-Key': this.options.apiKey,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.error(`${method} ${path}: ${transportFailure(err, this.timeoutMs)}`, {
        cause: err,
      });
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      throw this.error(
        `${method} ${path} answered ${response.status}: ${pdnsErrorText(text, response)}`,
        {
          status: response.status,
        },
      );
    }
    if (text.length === 0) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw this.error(`${method} ${path} answered ${response.status} with invalid JSON`, {
        cause: err,
      });
    }
  }

  private nameInZone(name: string): string {
    let fqdn: string;
    try {
      fqdn = normalizeName(name);
    } catch (err) {
      throw this.error((err as Error).message, { cause: err });
    }
    if (!isInZone(fqdn, this.zone)) {
      throw this.error(`${fqdn} is outside the zone ${this.zone}`);
    }
    return fqdn;
  }

  private validate(type: DnsRecordType, values: string[], ttl: number): string[] {
    try {
      return validateValues(type, values, ttl);
    } catch (err) {
      throw this.error((err as Error).message, { cause: err });
    }
  }

  private error(detail: string, options?: { cause?: unknown; status?: number }): DnsProviderError {
    return new DnsProviderError('powerdns', this.apiUrl, detail, options);
  }
}

function toContent(type: DnsRecordType, value: string): string {
  if (type === 'TXT') return quoteTxt(value);
  if (type === 'CNAME') return withTrailingDot(value);
  return value;
}

function fromContent(type: DnsRecordType, content: string): string {
  if (type === 'TXT') return unquoteTxt(content, 10);
  if (type === 'CNAME') return content.toLowerCase().replace(/\.$/, '');
  return content;
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

// Duck-typed, not `instanceof Error`: fetch's errors are made in Node's own realm, which is not
// the realm of a jest test or a vm context.
function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null ? value : undefined;
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, ...) is its cause. */
function transportFailure(err: unknown, timeoutMs: number): string {
  const error = asErrorLike(err);
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = asErrorLike(error?.cause);
  // An AggregateError (IPv4 and IPv6 both refused) has an empty message but a code.
  const reason = cause && (stringOf(cause.message) || stringOf(cause.code));
  return reason || stringOf(error?.message) || String(err);
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function pdnsErrorText(text: string, response: Response): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // plain text body (404, 409, 401 are sent that way)
  }
  return text.trim() || response.statusText;
}
