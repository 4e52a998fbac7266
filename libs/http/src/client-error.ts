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

/** Node keeps the response in flight on its socket (`_httpMessage`, what its own handler reads). */
type HttpSocket = Socket & { _httpMessage?: { readonly headersSent: boolean } | null };

/**
 * What a connection gets when Node's parser refuses what it sent (a bad request line, a header
 * with a line break in it, headers that never end): Node's own rule — an answer unless a
 * response on this connection has started, so it never lands inside another one — with our
 * JSON error body (Fastify's default answers even then, in its own shape). Not "nothing written
 * on the connection yet": on a keep-alive connection that hung up on the second request
 * without a word, where Node answers 400.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  const inFlight = (socket as HttpSocket)._httpMessage;
  if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
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
