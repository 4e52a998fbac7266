import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Change,
  type ChangeInfo,
  type ResourceRecordSet,
  type RRType,
} from '@aws-sdk/client-route-53';
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

export interface Route53DriverOptions {
  /** `Z0123...` or `/hostedzone/Z0123...`. */
  hostedZoneId: string;
  /** Route 53 is a global service served from us-east-1; the default is right for most. */
  region?: string;
  zone: string;
  /** Injected in tests; otherwise one is built with the default credential chain. */
  client?: Route53Client;
  /** Wait until a change is INSYNC on all Route 53 name servers (default true). */
  waitForSync?: boolean;
  maxWaitSeconds?: number;
}

/** Timing knobs; only tests change them (to run without real waits). */
export interface Route53Tuning {
  /** Minimum gap between two request starts: Route 53 allows 5 requests/s per account. */
  minIntervalMs: number;
  /** Attempts per request when Route 53 answers Throttling or PriorRequestNotComplete. */
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Gap between GetChange polls while waiting for INSYNC. */
  pollIntervalMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

const DEFAULT_TUNING: Route53Tuning = {
  minIntervalMs: 200,
  maxAttempts: 6,
  backoffBaseMs: 250,
  backoffMaxMs: 8_000,
  pollIntervalMs: 2_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};
const DEFAULT_REGION = 'us-east-1';
const DEFAULT_MAX_WAIT_SECONDS = 120;
const DEFAULT_TXT_TTL = 60;
// A name holds at most one set per type we manage, so a page of 10 covers it in one request.
const LIST_PAGE_SIZE = 10;
// "Throttling" is the code Route 53 sends for its 5 req/s limit; PriorRequestNotComplete when a
// change to the same set is still being applied. Both are worth retrying after a pause.
const RETRYABLE_ERRORS = new Set(['Throttling', 'ThrottlingException', 'PriorRequestNotComplete']);

/**
 * Amazon Route 53, one hosted zone per driver. Every request goes through one in-process
 * limiter (one at a time, ≥ 200 ms apart) — the account limit is shared by every caller, so
 * bursts from parallel onboardings would otherwise turn into throttling errors.
 */
export class Route53Driver implements DnsProvider {
  readonly name = 'route53';
  private readonly client: Route53Client;
  private readonly hostedZoneId: string;
  private readonly zone: string;
  private readonly waitForSync: boolean;
  private readonly maxWaitMs: number;
  private readonly tuning: Route53Tuning;
  private readonly limiter: RequestLimiter;
  private readonly locks = new KeyedMutex();

  constructor(options: Route53DriverOptions, tuning: Partial<Route53Tuning> = {}) {
    this.hostedZoneId = options.hostedZoneId.replace(/^\/?hostedzone\//, '');
    this.zone = normalizeName(options.zone);
    this.waitForSync = options.waitForSync ?? true;
    this.maxWaitMs = (options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS) * 1_000;
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    this.limiter = new RequestLimiter(this.tuning.minIntervalMs, this.tuning.sleep);
    // maxAttempts 1: the SDK would otherwise retry throttling on its own, outside our limiter,
    // multiplying the attempts; our retry below is the only one.
    this.client =
      options.client ??
      new Route53Client({ region: options.region ?? DEFAULT_REGION, maxAttempts: 1 });
  }

  async upsertRecordSet(record: DnsRecordSet): Promise<void> {
    const fqdn = this.nameInZone(record.name);
    const values = this.validate(record.type, record.values, record.ttl);
    await this.locks.run(fqdn, () =>
      this.change({
        Action: 'UPSERT',
        ResourceRecordSet: toRoute53(fqdn, record.type, values, record.ttl),
      }),
    );
  }

  async deleteRecordSet(name: string, type: DnsRecordType): Promise<void> {
    const fqdn = this.nameInZone(name);
    await this.locks.run(fqdn, () => this.deleteCurrent(fqdn, type));
  }

  async listRecordSets(name: string): Promise<DnsRecordSet[]> {
    const fqdn = this.nameInZone(name);
    const sets: DnsRecordSet[] = [];
    let startType: RRType | undefined;
    for (;;) {
      const page = await this.send(() =>
        this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: this.hostedZoneId,
            StartRecordName: withTrailingDot(fqdn),
            StartRecordType: startType,
            MaxItems: LIST_PAGE_SIZE,
          }),
        ),
      );
      // The listing runs on in name order past our name; stop at the first other name.
      let pastName = false;
      for (const set of page.ResourceRecordSets ?? []) {
        if (decodeName(set.Name ?? '') !== fqdn) {
          pastName = true;
          break;
        }
        const parsed = fromRoute53(fqdn, set);
        if (parsed) sets.push(parsed);
      }
      if (pastName || !page.IsTruncated || decodeName(page.NextRecordName ?? '') !== fqdn) break;
      startType = page.NextRecordType;
    }
    return sortRecordSets(sets);
  }

  async addTxtValue(name: string, value: string, ttl?: number): Promise<void> {
    const fqdn = this.nameInZone(name);
    this.validate('TXT', [value], ttl ?? DEFAULT_TXT_TTL);
    await this.locks.run(fqdn, async () => {
      const current = await this.currentSet(fqdn, 'TXT');
      const values = current ? currentValues(current) : [];
      // Already there with the wanted TTL: nothing to do (a retried ACME step lands here).
      if (values.includes(value) && (ttl === undefined || current?.TTL === ttl)) return;
      const nextTtl = ttl ?? current?.TTL ?? DEFAULT_TXT_TTL;
      const next = [...new Set([...values, value])];
      await this.change({
        Action: 'UPSERT',
        ResourceRecordSet: toRoute53(fqdn, 'TXT', next, nextTtl),
      });
    });
  }

  async removeTxtValue(name: string, value: string): Promise<void> {
    const fqdn = this.nameInZone(name);
    await this.locks.run(fqdn, async () => {
      const current = await this.currentSet(fqdn, 'TXT');
      if (!current) return;
      const values = currentValues(current);
      if (!values.includes(value)) return;
      const rest = values.filter((v) => v !== value);
      if (rest.length === 0) {
        await this.change({ Action: 'DELETE', ResourceRecordSet: current });
      } else {
        const ttl = current.TTL ?? DEFAULT_TXT_TTL;
        await this.change({
          Action: 'UPSERT',
          ResourceRecordSet: toRoute53(fqdn, 'TXT', rest, ttl),
        });
      }
    });
  }

  /** The hosted zone answers with our credentials and is the zone the config names. */
  async check(): Promise<void> {
    const answer = await this.send(() =>
      this.client.send(new GetHostedZoneCommand({ Id: this.hostedZoneId })),
    );
    const actual = decodeName(answer.HostedZone?.Name ?? '');
    if (actual !== this.zone) {
      throw this.error(
        `hosted zone ${this.hostedZoneId} is ${actual || '(unnamed)'}, not ${this.zone}`,
      );
    }
  }

  /** DELETE must repeat the set exactly as stored, so read it first; none stored is done. */
  private async deleteCurrent(fqdn: string, type: DnsRecordType): Promise<void> {
    const current = await this.currentSet(fqdn, type);
    if (!current) return;
    try {
      await this.change({ Action: 'DELETE', ResourceRecordSet: current });
    } catch (err) {
      // Deleted by someone else between our read and our change: the goal is reached.
      if (err instanceof DnsProviderError && /not found/i.test(err.message)) return;
      throw err;
    }
  }

  private async currentSet(
    fqdn: string,
    type: DnsRecordType,
  ): Promise<ResourceRecordSet | undefined> {
    const page = await this.send(() =>
      this.client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: this.hostedZoneId,
          StartRecordName: withTrailingDot(fqdn),
          StartRecordType: type,
          MaxItems: 1,
        }),
      ),
    );
    const first = page.ResourceRecordSets?.[0];
    if (!first || decodeName(first.Name ?? '') !== fqdn || first.Type !== type) return undefined;
    return first;
  }

  private async change(change: Change): Promise<void> {
    const answer = await this.send(() =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.hostedZoneId,
          ChangeBatch: { Changes: [change] },
        }),
      ),
    );
    if (this.waitForSync) await this.waitUntilInSync(answer.ChangeInfo);
  }

  private async waitUntilInSync(info: ChangeInfo | undefined): Promise<void> {
    if (!info?.Id) throw this.error('ChangeResourceRecordSets returned no change id');
    const deadline = Date.now() + this.maxWaitMs;
    let status = info.Status;
    while (status !== 'INSYNC') {
      if (Date.now() >= deadline) {
        throw this.error(
          `change ${info.Id} still ${String(status)} after ${this.maxWaitMs / 1_000} s`,
        );
      }
      await this.tuning.sleep(this.tuning.pollIntervalMs);
      status = (await this.send(() => this.client.send(new GetChangeCommand({ Id: info.Id }))))
        .ChangeInfo?.Status;
    }
  }

  /** One request through the limiter, retried with exponential backoff and full jitter. */
  private async send<Output>(request: () => Promise<Output>): Promise<Output> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.limiter.run(request);
      } catch (err) {
        if (isRetryable(err) && attempt < this.tuning.maxAttempts) {
          const ceiling = Math.min(
            this.tuning.backoffMaxMs,
            this.tuning.backoffBaseMs * 2 ** (attempt - 1),
          );
          await this.tuning.sleep(Math.round(this.tuning.random() * ceiling));
          continue;
        }
        throw this.error(describeAwsError(err, attempt), { cause: err });
      }
    }
  }

  private nameInZone(name: string): string {
    let fqdn: string;
    try {
      fqdn = normalizeName(name);
    } catch (err) {
      throw this.error((err as Error).message, { cause: err });
    }
    if (!isInZone(fqdn, this.zone)) throw this.error(`${fqdn} is outside the zone ${this.zone}`);
    return fqdn;
  }

  private validate(type: DnsRecordType, values: string[], ttl: number): string[] {
    try {
      return validateValues(type, values, ttl);
    } catch (err) {
      throw this.error((err as Error).message, { cause: err });
    }
  }

  private error(detail: string, options?: { cause?: unknown }): DnsProviderError {
    return new DnsProviderError('route53', `hosted zone ${this.hostedZoneId}`, detail, options);
  }
}

/** Serializes requests and keeps their starts at least `minIntervalMs` apart. */
class RequestLimiter {
  private queue: Promise<void> = Promise.resolve();
  private nextStart = 0;

  constructor(
    private readonly minIntervalMs: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      const wait = this.nextStart - Date.now();
      if (wait > 0) await this.sleep(wait);
      this.nextStart = Date.now() + this.minIntervalMs;
      return task();
    });
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

function toRoute53(
  fqdn: string,
  type: DnsRecordType,
  values: string[],
  ttl: number,
): ResourceRecordSet {
  return {
    Name: withTrailingDot(fqdn),
    Type: type,
    TTL: ttl,
    ResourceRecords: values.map((value) => ({
      Value: type === 'TXT' ? quoteTxt(value) : type === 'CNAME' ? withTrailingDot(value) : value,
    })),
  };
}

function fromRoute53(fqdn: string, set: ResourceRecordSet): DnsRecordSet | undefined {
  const type = set.Type as DnsRecordType;
  // Alias records and types we do not manage (NS, SOA, MX, ...) are not part of the port.
  if (!DNS_RECORD_TYPES.includes(type) || !set.ResourceRecords) return undefined;
  return { name: fqdn, type, ttl: set.TTL ?? 0, values: currentValues(set) };
}

function currentValues(set: ResourceRecordSet): string[] {
  return (set.ResourceRecords ?? []).map(({ Value = '' }) =>
    set.Type === 'TXT'
      ? unquoteTxt(Value, 8)
      : set.Type === 'CNAME'
        ? Value.toLowerCase().replace(/\.$/, '')
        : Value,
  );
}

/** Route 53 returns names with special characters as octal escapes (`*` is `\052`). */
function decodeName(name: string): string {
  return name
    .replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
    .toLowerCase()
    .replace(/\.$/, '');
}

interface AwsErrorLike {
  name?: unknown;
  message?: unknown;
  Code?: unknown;
  messages?: unknown;
}

// Duck-typed: an injected client may come from another copy of the SDK (or realm), and the
// throttling error has no class of its own — only its name.
function asAwsError(err: unknown): AwsErrorLike | undefined {
  return typeof err === 'object' && err !== null ? err : undefined;
}

function isRetryable(err: unknown): boolean {
  const error = asAwsError(err);
  return [error?.name, error?.Code].some(
    (code) => typeof code === 'string' && RETRYABLE_ERRORS.has(code),
  );
}

function describeAwsError(err: unknown, attempts: number): string {
  const error = asAwsError(err);
  if (!error) return String(err);
  // InvalidChangeBatch carries the reasons in `messages`, one per rejected change.
  const detail =
    Array.isArray(error.messages) && error.messages.length > 0
      ? error.messages.map(String).join('; ')
      : typeof error.message === 'string'
        ? error.message
        : String(err);
  const retried = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  const name = typeof error.name === 'string' ? error.name : 'Error';
  return `${name}: ${detail}${retried}`;
}
