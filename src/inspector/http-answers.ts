import type { IncomingMessage, ServerResponse } from 'node:http';

/** The local API's answers: JSON bodies with their length, and `{error: {message}}` for refusals. */
export function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function error(res: ServerResponse, status: number, message: string, code?: string): void {
  json(res, status, { error: code === undefined ? { message } : { message, code } });
}

/** An export download: the body with its type, saved by browsers under `fileName`. */
export function download(res: ServerResponse, out: { body: string; contentType: string }, fileName: string): void {
  res.writeHead(200, {
    'content-type': out.contentType,
    'content-disposition': `attachment; filename="${fileName}"`,
    'content-length': Buffer.byteLength(out.body),
  });
  res.end(out.body);
}

const MAX_JSON_BODY_BYTES = 64 * 1024;

/** Reads a small JSON object body; `{}` for an empty body, `undefined` when it is not a JSON object. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
