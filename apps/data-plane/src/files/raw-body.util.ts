import type { IncomingMessage } from 'node:http';
import {
  BadRequestException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import getRawBody from 'raw-body';
import type { ErrorBody } from '@platform/http';

interface RawBodyError {
  readonly type?: string;
}

/**
 * Reads an upload's bytes, any Content-Type, at most `limit` of them: a declared Content-Length
 * beyond it is refused before anything is read, a chunked body as soon as it passes it. Called
 * by the handler, i.e. after tenant resolution and authentication, so nobody can make the
 * server buffer a file without being a signed-in user of the tenant. A compressed body is
 * refused: bytes are stored as sent, and it cannot expand past the limit on the way in.
 */
export async function readRawBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new UnsupportedMediaTypeException(
      'request body must not be compressed (Content-Encoding): files are stored as sent',
    );
  }
  const declared = request.headers['content-length'];
  try {
    return await getRawBody(request, {
      limit,
      length: declared === undefined ? undefined : Number(declared),
    });
  } catch (error) {
    throw bodyError(error as RawBodyError, limit);
  }
}

function bodyError(error: RawBodyError, limit: number): Error {
  if (error.type === 'entity.too.large') {
    return new PayloadTooLargeException(`file is larger than FILE_MAX_BYTES (${limit} bytes)`);
  }
  const body: ErrorBody = {
    error: 'unreadable_body',
    message: 'request body could not be read',
    details: [],
  };
  return new BadRequestException(body);
}
