import type { IncomingMessage } from 'node:http';
import type { ErrorBody } from './error-body';
import { answerJson, type NodeMiddleware } from './node-response';

const MAX_DEPTH = 32;
const NUL = '\u0000';
/** A UTF-16 surrogate not paired with its other half (a `u` regex reads a pair as one code point). */
const LONE_SURROGATE = /\p{Cs}/u;
/** A NUL as a URL carries it: percent-encoded (a raw one is looked for too). */
const ENCODED_NUL = '%00';

/** Why a string cannot be stored, as the `rule` of a 400. */
export type TextRule = 'no-nul-character' | 'well-formed-unicode';

/** Where a request holds text PostgreSQL cannot store, and why. */
export interface TextProblem {
  readonly field: string;
  readonly rule: TextRule;
}

/**
 * PostgreSQL's text cannot hold U+0000 (the driver fails: a 500), and its jsonb refuses a lone
 * surrogate escape (`"\ud800"`, valid JSON but no character) while the driver turns one in a text
 * column into U+FFFD, silently changing what was sent. Both are refused instead.
 */
function ruleBrokenBy(text: string): TextRule | null {
  if (text.includes(NUL)) return 'no-nul-character';
  if (LONE_SURROGATE.test(text)) return 'well-formed-unicode';
  return null;
}

/** The dotted path of the first string (value or key) that PostgreSQL cannot store, or null. */
export function findUnstorableText(value: unknown, path: string, depth = 0): TextProblem | null {
  if (typeof value === 'string') {
    const rule = ruleBrokenBy(value);
    return rule ? { field: path || 'body', rule } : null;
  }
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const keyRule = ruleBrokenBy(key);
    if (keyRule) return { field: path ? `${path}.<key>` : '<key>', rule: keyRule };
    const found = findUnstorableText(child, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * A NUL in the URL: named by its query parameter when it is in one, else `url` (the path).
 * URLSearchParams decodes as leniently as the apps' query parsers (an invalid escape such as `%ff`
 * stays as it is, `%00` still becomes NUL), so no NUL gets past this check that a parser would
 * hand to a handler; decoding the whole URL at once failed on the first invalid escape.
 */
function findNulInUrl(url: string): TextProblem | null {
  if (!url.includes(ENCODED_NUL) && !url.includes(NUL)) return null;
  const queryStart = url.indexOf('?');
  if (queryStart >= 0) {
    for (const [key, value] of new URLSearchParams(url.slice(queryStart + 1))) {
      if (key.includes(NUL)) return { field: '<query key>', rule: 'no-nul-character' };
      if (value.includes(NUL)) return { field: key, rule: 'no-nul-character' };
    }
  }
  return { field: 'url', rule: 'no-nul-character' };
}

/** The 400 for text that cannot be stored. */
export function unstorableTextError({ field, rule }: TextProblem): ErrorBody {
  const message =
    rule === 'no-nul-character'
      ? `${field} must not contain NUL characters`
      : `${field} must be well-formed Unicode (it holds a lone surrogate)`;
  return { error: 'validation_failed', message, details: [{ field, rule, message }] };
}

/** Express keeps the URL as sent in `originalUrl`; Node's (and Fastify's middleware's) `url`. */
function urlOf(request: IncomingMessage & { originalUrl?: string }): string {
  return request.originalUrl ?? request.url ?? '';
}

/**
 * Refused here, once, for every route: a 400 naming where it was. Under Express it runs after
 * the body parser and looks at the body too; under Fastify the body is parsed after middleware,
 * so its JSON parser (fastify-json-body.ts) looks at the body itself.
 */
export function rejectUnstorableText(): NodeMiddleware {
  return (request, response, next) => {
    const problem =
      findNulInUrl(urlOf(request)) ?? findUnstorableText((request as { body?: unknown }).body, '');
    if (!problem) return next();
    answerJson(response, 400, unstorableTextError(problem));
  };
}
