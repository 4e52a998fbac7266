import { json, type RequestHandler } from 'express';
import type { ErrorBody } from './error-body';

interface BodyParserError {
  readonly type?: string;
  readonly status?: number;
}

/**
 * JSON-only body parsing with a size limit, answering malformed or oversized bodies with our
 * JSON error shape (Express would answer them with an HTML page).
 */
export function jsonBodyParser(limit: string): RequestHandler {
  const parse = json({ limit, strict: true });
  return (request, response, next) => {
    parse(request, response, (error?: unknown) => {
      if (!error) return next();
      const { type, status } = error as BodyParserError;
      const body: ErrorBody =
        type === 'entity.too.large'
          ? { error: 'payload_too_large', message: `request body is larger than ${limit}` }
          : type === 'entity.parse.failed'
            ? { error: 'malformed_json', message: 'request body is not valid JSON' }
            : { error: 'unreadable_body', message: 'request body could not be read' };
      response.status(status && status >= 400 && status < 500 ? status : 400).json(body);
    });
  };
}
