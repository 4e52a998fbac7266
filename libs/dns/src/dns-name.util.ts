import { isIPv4, isIPv6 } from 'node:net';
import type { DnsRecordSet, DnsRecordType } from './dns.port';

// RFC 1035 limits; `_` for service labels (`_acme-challenge`), `*` only as a whole first label.
const MAX_NAME_LENGTH = 253;
const LABEL = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;
// A TXT character-string holds at most 255 bytes; longer values are split into several strings.
const TXT_CHUNK = 255;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Lower-case, no trailing dot — the form the port speaks. Throws a plain Error when invalid. */
export function normalizeName(name: string): string {
  const normalized = name.trim().toLowerCase().replace(/\.$/, '');
  if (normalized.length === 0 || normalized.length > MAX_NAME_LENGTH) {
    throw new Error(`invalid DNS name ${JSON.stringify(name)}`);
  }
  const labels = normalized.split('.');
  labels.forEach((label, index) => {
    if (label === '*' && index === 0) return;
    if (!LABEL.test(label)) throw new Error(`invalid DNS name ${JSON.stringify(name)}`);
  });
  return normalized;
}

export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

export function withTrailingDot(name: string): string {
  return `${name}.`;
}

/** Checks a record set before it is sent, so a provider never receives a half-valid change. */
export function validateValues(type: DnsRecordType, values: string[], ttl: number): string[] {
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 2_147_483_647) {
    throw new Error(`invalid TTL ${ttl}`);
  }
  if (values.length === 0) throw new Error(`a ${type} record set needs at least one value`);
  const unique = [...new Set(type === 'TXT' ? values : values.map((v) => v.toLowerCase()))];
  for (const value of unique) {
    const ok =
      type === 'A'
        ? isIPv4(value)
        : type === 'AAAA'
          ? isIPv6(value)
          : type === 'CNAME'
            ? isValidName(value)
            : PRINTABLE_ASCII.test(value);
    if (!ok) throw new Error(`invalid ${type} value ${JSON.stringify(value)}`);
  }
  if (type === 'CNAME' && unique.length !== 1) {
    throw new Error('a CNAME record set holds exactly one value');
  }
  return type === 'CNAME' ? unique.map(normalizeName) : unique;
}

function isValidName(value: string): boolean {
  try {
    normalizeName(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * A TXT value as zone-file text: `"v=spf1 \"x\""`, split into 255-byte strings. Only printable
 * ASCII is accepted (validateValues), so `"` and `\` are the only characters to escape — and
 * PowerDNS (decimal `\DDD`) and Route 53 (octal `\ooo`) agree on that much.
 */
export function quoteTxt(value: string): string {
  const chunks: string[] = [];
  for (let i = 0; i < value.length; i += TXT_CHUNK) chunks.push(value.slice(i, i + TXT_CHUNK));
  if (chunks.length === 0) chunks.push('');
  return chunks.map((chunk) => `"${chunk.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(' ');
}

/** The inverse of quoteTxt; `escapeRadix` is 10 for PowerDNS and 8 for Route 53. */
export function unquoteTxt(content: string, escapeRadix: 8 | 10): string {
  let result = '';
  let i = 0;
  let quoted = false;
  while (i < content.length) {
    const c = content[i];
    if (c === '"') {
      quoted = !quoted;
      i++;
    } else if (c === '\\') {
      const digits = content.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(digits)) {
        result += String.fromCharCode(parseInt(digits, escapeRadix));
        i += 4;
      } else {
        result += content[i + 1] ?? '';
        i += 2;
      }
    } else if (!quoted && /\s/.test(c)) {
      // Whitespace between character-strings separates them; the strings form one value.
      i++;
    } else {
      result += c;
      i++;
    }
  }
  return result;
}

/** Stable order for answers and comparisons. */
export function sortRecordSets(sets: DnsRecordSet[]): DnsRecordSet[] {
  return sets
    .map((set) => ({ ...set, values: [...set.values].sort() }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
}
