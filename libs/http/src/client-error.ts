import type { Socket } from 'node:net';
import type { ErrorBody } from './error-body';

const REFUSALS: Record<string, [number, string, ErrorBody]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    { error: 'headers_too_large', message: 'the request headers are too large' },
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [
    408,
    'Request Timeout',
    { error: 'request_timeout', message: 'the request did not arrive in time' },
  ],
};

const MALFORMED: [number, string, ErrorBody] = [
  400,
  'Bad Request',
  { error: 'malformed_request', message: 'the request is not valid HTTP/1.1' },
];

/**
 * What a connection gets when Node's parser refuses what it sent (a bad request line, a header
 * with a line break in it, headers that never end): Node's own rule — an answer only if
 * nothing was written on the connection yet, so it never lands inside or after another
 * response — with our JSON error body (Fastify's default answers even after a response, in
 * its own shape).
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code !== 'ECONNRESET' && socket.writable && socket.bytesWritten === 0) {
    const [status, reason, body] = REFUSALS[error.code ?? ''] ?? MALFORMED;
    const payload = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
    );
  }
  socket.destroy(error);
}
