import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { RecordedRequest } from './emulator.types.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_BODY_BYTES = 1_048_576;

/** One request and its answer; records the status it was answered with. */
export class Exchange {
  private params?: URLSearchParams;

  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly path: string,
    private readonly search: string,
    readonly record: RecordedRequest,
  ) {}

  get query(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.search));
  }

  /** The media type without parameters, lower-cased. */
  get mediaType(): string {
    return (this.req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  }

  /** Resolves to undefined when the body is larger than Pipedrive would take. */
  readBody(): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      this.req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
      this.req.on('error', reject);
    });
  }

  send(status: number, body: string, headers: OutgoingHttpHeaders): void {
    this.record.status = status;
    if (this.res.destroyed) return;
    headers['content-length'] = Buffer.byteLength(body);
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  json(status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
    headers['content-type'] = JSON_TYPE;
    this.send(status, JSON.stringify(value), headers);
  }

  redirect(location: string): void {
    this.send(302, '', { location, 'cache-control': 'no-store' });
  }

  /** Drops the connection without an answer, as a crashed proxy would. */
  reset(): void {
    this.record.status = 0;
    this.req.socket.destroy();
  }
}
