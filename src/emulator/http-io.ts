import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reading requests and writing JSON answers, shared by the emulator's routes. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** The body as text, or null past `MAX_BODY_BYTES`. */
export async function readText(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object body; `{}` for an empty body; null when it is not a JSON object. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const text = await readText(req);
  if (text === null) return null;
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
