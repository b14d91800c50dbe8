/**
 * Requests Node's HTTP parser refuses before Express sees them (a malformed request line, headers over
 * the size limit, a request that took too long to arrive): Node would answer a bare 400/431/408 without
 * a body. This answers them in the API's one error shape, then closes the connection: after a parse
 * error nothing more can be read from it.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { safeListener } from './safe-listener';

interface Refusal {
  status: number;
  reason: string;
  code: string;
  message: string;
}

/** By Node's error codes (llhttp's `HPE_*`, and the server's own timeout), as Node's default answers them. */
function refusalFor(code: string | undefined): Refusal {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        code: 'headers_too_large',
        message: 'the request headers are too large',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 413,
        reason: 'Payload Too Large',
        code: 'payload_too_large',
        message: 'the request body’s chunk extensions are too large',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'Request Timeout',
        code: 'request_timeout',
        message: 'the request did not arrive in time',
      };
    default:
      return {
        status: 400,
        reason: 'Bad Request',
        code: 'malformed_request',
        message: 'the request is not valid HTTP/1.1 (request line, headers or framing)',
      };
  }
}

/** The raw response for a refusal: JSON, no caching, and the connection closes. */
export function clientErrorResponse(code: string | undefined): string {
  const refusal = refusalFor(code);
  const body = JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
  return [
    `HTTP/1.1 ${refusal.status} ${refusal.reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Answers `server`'s client errors as above. `onError` hears what went wrong inside the listener (the
 * socket is then destroyed; nothing may throw out of it: see safe-listener.ts).
 */
export function answerClientErrors(server: Server, onError: (err: unknown) => void): void {
  const answer = (err: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's own handler: a reset connection, or one whose response already started, gets no answer
    // (writing would corrupt what the client is reading).
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err.code));
  };
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
    safeListener(answer, (failure) => {
      socket.destroy();
      onError(failure);
    })(err, socket),
  );
}
