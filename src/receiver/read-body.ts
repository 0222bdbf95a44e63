import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { BodySink } from '../store/store.js';
import type { SpooledBody } from '../types.js';

/**
 * Reads a request body up to `maxBytes`, hashing it chunk by chunk as it arrives (no whole-body hash on
 * the event loop later). Beyond the limit it stops keeping chunks at once and reports `too-large`, so an
 * oversize body never sits in memory whole; the caller answers 413 and closes.
 *
 * States: buffering (chunks kept in memory) → opening (past `spoolAboveBytes`: the request is paused while
 * the store's sink opens) → spooling (each chunk written to the sink; the request is paused while more than
 * `SPOOL_HIGH_WATER_BYTES` wait to be written) → done: `ok` with the bytes or the spooled reference,
 * `too-large`, `aborted` (the sender went away), or `failed` (the sink could not write: answer 503).
 * Whatever ends it, a sink that will not be recorded is discarded.
 */
export type BodyRead =
  | { kind: 'ok'; body: Buffer | SpooledBody; sha256: Buffer; bytes: number }
  | { kind: 'too-large' }
  | { kind: 'aborted' }
  | { kind: 'failed'; error: unknown };

export interface ReadBodyOptions {
  maxBytes: number;
  /** Bodies larger than this are spooled through `openSink` instead of held in memory. @defaultValue Infinity */
  spoolAboveBytes?: number;
  openSink?: () => Promise<BodySink>;
  /** Told of each discard of a partial spooled body, so a closing receiver can wait for the files to go. */
  onDiscard?: (discarded: Promise<void>) => void;
}

/** Unwritten bytes a spooling request may have queued before it is paused. */
const SPOOL_HIGH_WATER_BYTES = 1024 * 1024;

export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<BodyRead> {
  const { maxBytes, openSink } = options;
  const spoolAboveBytes = openSink ? (options.spoolAboveBytes ?? Infinity) : Infinity;
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let sink: BodySink | null = null;
    let opening: Promise<void> | null = null;
    let unwrittenBytes = 0;
    let ended = false;
    let failure: unknown = null;

    const detach = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
    };
    const finish = (result: BodyRead): void => {
      if (done) return;
      done = true;
      detach();
      chunks = [];
      if (result.kind !== 'ok' && (sink || opening)) {
        const discarded = (opening ?? Promise.resolve()).then(() => sink?.discard()).catch(() => undefined);
        options.onDiscard?.(discarded);
      }
      resolve(result);
    };

    const write = (chunk: Buffer): void => {
      unwrittenBytes += chunk.length;
      if (unwrittenBytes > SPOOL_HIGH_WATER_BYTES) req.pause();
      sink!.write(chunk).then(
        () => {
          unwrittenBytes -= chunk.length;
          if (!done && unwrittenBytes <= SPOOL_HIGH_WATER_BYTES) req.resume();
        },
        (error: unknown) => fail(error),
      );
    };
    const fail = (error: unknown): void => {
      failure ??= error;
      // Keep draining into the void: the caller answers 503 and closes the connection.
      req.resume();
      finish({ kind: 'failed', error });
    };

    const startSpooling = (): void => {
      req.pause();
      opening = openSink!().then(
        (opened) => {
          sink = opened;
          opening = null;
          if (done) return;
          const held = chunks;
          chunks = [];
          for (const chunk of held) write(chunk);
          if (ended) void complete();
          else if (unwrittenBytes <= SPOOL_HIGH_WATER_BYTES) req.resume();
        },
        (error: unknown) => {
          opening = null;
          fail(error);
        },
      );
    };

    const complete = async (): Promise<void> => {
      const sha256 = hash.digest();
      if (!sink) {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        return finish({ kind: 'ok', body, sha256, bytes: size });
      }
      try {
        const spooled = await sink.finish();
        if (failure) return;
        finish({ kind: 'ok', body: spooled, sha256, bytes: size });
      } catch (error) {
        finish({ kind: 'failed', error });
      }
    };

    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        // Keep the stream flowing into the void until the caller closes the socket.
        req.resume();
        finish({ kind: 'too-large' });
        return;
      }
      hash.update(chunk);
      if (sink) return write(chunk);
      chunks.push(chunk);
      if (!opening && size > spoolAboveBytes) startSpooling();
    };
    const onEnd = (): void => {
      ended = true;
      // Once the request ended, a later 'close' is not an abort; the outcome is up to the sink.
      req.off('close', onClose);
      req.off('error', onAbort);
      if (!opening) void complete();
    };
    const onAbort = (): void => finish({ kind: 'aborted' });
    const onClose = (): void => {
      if (!req.complete) finish({ kind: 'aborted' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}
