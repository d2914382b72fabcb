import type { Duplex } from 'node:stream';
import type { ErrorBody, ErrorCode } from '../errors.ts';

/** What Node's HTTP parser refused, as the contract's error: status, reason phrase, code, detail. */
function refusal(code: string | undefined): [number, string, ErrorCode, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'The request line and headers are over the server limit (16 KiB)'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Payload Too Large', 'PAYLOAD_TOO_LARGE', 'The chunk extensions of the request body are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request was not received in time'];
    default:
      return [400, 'Bad Request', 'MALFORMED_REQUEST', 'The request is not valid HTTP/1.1'];
  }
}

/** The bytes of a complete HTTP/1.1 error answer that closes the connection. */
export function clientErrorResponse(code: string | undefined): string {
  const [status, reason, errorCode, detail] = refusal(code);
  const body = JSON.stringify({ detail, code: errorCode, issues: [] } satisfies ErrorBody);
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

interface ParserSocket extends Duplex {
  /** The response in flight on this connection, if any (Node's own field, which its default handler checks too). */
  _httpMessage?: { headersSent?: boolean } | null;
}

/**
 * Requests that Node's HTTP parser refuses never reach a route: headers over the limit, a
 * malformed request line or Content-Length, a request that took too long. Node answers those
 * with a bare status line and an empty body; this answers them in the contract's one error
 * shape instead (API.md "Errors": never anything else). As Node's default handler does, it
 * writes nothing once a response on the connection has begun (the peer would read a corrupt
 * stream), and closes the connection in every case.
 */
export function answerClientErrors(server: { on(event: 'clientError', listener: (err: NodeJS.ErrnoException, socket: Duplex) => void): unknown }): void {
  server.on('clientError', (err, socket: ParserSocket) => {
    // Written as Node's own answer is: a small write a fresh socket takes at once, then closed.
    if (err.code !== 'ECONNRESET' && socket.writable && !socket._httpMessage?.headersSent) socket.write(clientErrorResponse(err.code));
    socket.destroy();
  });
}
