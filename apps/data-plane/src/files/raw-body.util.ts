import {
  BadRequestException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { raw, type Request, type Response } from 'express';
import type { ErrorBody } from '@platform/http';

interface BodyParserError {
  readonly type?: string;
  readonly status?: number;
  readonly message?: string;
}

/**
 * Reads an upload's bytes, any Content-Type, at most `limit` of them: a declared Content-Length
 * beyond it is refused before anything is read, a chunked body as soon as it passes it. Called
 * by the handler, i.e. after tenant resolution and authentication, so nobody can make the
 * server buffer a file without being a signed-in user of the tenant. `inflate: false`: bytes are
 * stored as sent, and a compressed body cannot expand past the limit on the way in.
 */
export function readRawBody(request: Request, response: Response, limit: number): Promise<Buffer> {
  const parse = raw({ type: () => true, limit, inflate: false });
  return new Promise((resolve, reject) => {
    parse(request, response, (error?: BodyParserError) => {
      if (error) {
        reject(bodyError(error, limit));
        return;
      }
      const body: unknown = request.body;
      if (body === undefined) {
        resolve(Buffer.alloc(0));
      } else if (Buffer.isBuffer(body)) {
        resolve(body);
      } else {
        // Another parser got here first: the route must be in the data plane's raw-body routes.
        reject(new Error('upload body was parsed before the handler'));
      }
    });
  });
}

function bodyError(error: BodyParserError, limit: number): Error {
  if (error.type === 'entity.too.large') {
    return new PayloadTooLargeException(`file is larger than FILE_MAX_BYTES (${limit} bytes)`);
  }
  if (error.status === 415) {
    return new UnsupportedMediaTypeException(
      'request body must not be compressed (Content-Encoding): files are stored as sent',
    );
  }
  const body: ErrorBody = {
    error: 'unreadable_body',
    message: 'request body could not be read',
    details: [],
  };
  return new BadRequestException(body);
}
