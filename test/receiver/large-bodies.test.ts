import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryRules } from '../../src/ringcentral/delivery-rules.js';
import { createEnvelopeIndexer } from '../../src/receiver/envelope-indexer.js';
import { createBodyParser } from '../../src/receiver/parse-worker.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { largeSttEnvelope } from '../helpers/fixtures.js';
import { post, startHarness, waitFor, type Harness } from '../helpers/receiver-harness.js';
import { tempDbPath } from '../helpers/temp.js';

const MiB = 1024 * 1024;
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const spoolFiles = (dbPath: string): string[] =>
  existsSync(`${dbPath}-bodies`) ? readdirSync(`${dbPath}-bodies`).filter((f) => f.endsWith('.body')) : [];

/** Sends `total` bytes of `body` and then destroys the connection before the rest: an interrupted sender. */
function postPartial(url: string, body: Buffer, sendBytes: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    });
    req.on('error', () => resolve());
    req.write(body.subarray(0, sendBytes), () => setTimeout(() => (req.destroy(), resolve()), 200));
  });
}

describe('large bodies', () => {
  it('stores a 28 MiB delivery byte for byte in a spool file and settles it through the worker parser', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl } = await harness.mint();
    const body = largeSttEnvelope('job-large', 28 * MiB);
    expect(await post(callbackUrl, body)).toBe(200);

    expect(spoolFiles(harness.dbPath)).toHaveLength(1);
    const request = await waitFor(async () => {
      const r = await harness!.store.findRequest('job-large');
      return r?.state === 'succeeded' && r;
    }, 30_000);
    expect(request.requestId).toBe(requestId);
    const [delivery] = await harness.store.listDeliveries(requestId);
    expect(delivery!.body.equals(body)).toBe(true);
    expect(delivery!.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(delivery!.envelope?.status).toBe('Success');
    // The database row holds a file name, not the bytes.
    const db = new Database(harness.dbPath, { readonly: true });
    const row = db.prepare('SELECT length(body) AS n, body_file FROM deliveries').get() as {
      n: number;
      body_file: string;
    };
    db.close();
    expect(row.n).toBe(0);
    expect(spoolFiles(harness.dbPath)).toEqual([row.body_file]);
  });

  it('folds an identical large re-delivery into one stored body and removes its file', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl } = await harness.mint();
    const body = largeSttEnvelope('job-twice', 2 * MiB);
    expect(await post(callbackUrl, body)).toBe(200);
    expect(await post(callbackUrl, body)).toBe(200);
    const deliveries = await waitFor(async () => {
      const d = await harness!.store.listDeliveries(requestId);
      return d.length === 1 && d[0]!.count === 2 && d;
    }, 20_000);
    expect(deliveries[0]!.body.equals(body)).toBe(true);
    await waitFor(() => spoolFiles(harness!.dbPath).length === 1);
  });

  it('leaves no file and no row behind for a large body cut off mid-way or over the limit', async () => {
    harness = await startHarness(tempDbPath(), { maxBodyBytes: 8 * MiB });
    const { requestId, callbackUrl } = await harness.mint();
    await postPartial(callbackUrl, largeSttEnvelope('job-cut', 6 * MiB), 3 * MiB);
    // Chunked, so the limit is found while spooling, not from Content-Length.
    const oversize = await fetch(callbackUrl, {
      method: 'POST',
      body: new Blob([largeSttEnvelope('job-over', 12 * MiB)]).stream(),
      duplex: 'half',
    }).then(
      (r) => r.status,
      () => 413,
    );
    expect(oversize).toBe(413);
    await waitFor(() => spoolFiles(harness!.dbPath).length === 0);
    expect(await harness.store.listDeliveries(requestId)).toEqual([]);
    // The receiver is still healthy and spools the next one.
    expect(await post(callbackUrl, largeSttEnvelope('job-next', 1 * MiB))).toBe(200);
  });

  it('removes the spool file of a large delivery whose commit failed (503)', async () => {
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath); // busy timeout 200 ms
    const { callbackUrl } = await harness.mint();
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(await post(callbackUrl, largeSttEnvelope('job-locked', 1 * MiB))).toBe(503);
      // Before: the fsync'd spool file stayed, unreferenced, until an hour after the next start.
      expect(spoolFiles(dbPath)).toEqual([]);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('retries a pass that drain() could not run because another process held the lock', async () => {
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath);
    const { requestId } = await harness.mint();
    await harness.store.recordDeliveries([
      { requestId, source: 'webhook', body: largeSttEnvelope('job-drained', 1000), rawHeaders: [], receivedAtMs: 1 },
    ]);
    const indexer = createEnvelopeIndexer(harness.store, { retryDelayMs: 100 });
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    indexer.notify();
    await indexer.drain(); // fails: the lock is held past the busy timeout
    other.exec('ROLLBACK');
    other.close();
    // Before: nothing retried it until a new delivery arrived.
    await waitFor(async () => (await harness!.store.findRequest(requestId))?.state === 'succeeded', 5000);
    await indexer.close();
  });

  it('keeps small deliveries inline in the database', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl } = await harness.mint();
    expect(await post(callbackUrl, largeSttEnvelope('job-small', 100 * 1024))).toBe(200);
    expect(spoolFiles(harness.dbPath)).toEqual([]);
    await waitFor(async () => (await harness!.store.findRequest(requestId))?.state === 'succeeded');
  });

  it('indexes spooled bodies left by a stopped process from the CLI path (parsed inline)', async () => {
    const dbPath = tempDbPath();
    harness = await startHarness(dbPath);
    const { requestId } = await harness.mint();
    const body = largeSttEnvelope('job-left', 1 * MiB);
    // Stop the receiver's indexer from running: record through the store directly, as a crash would leave it.
    const sink = await harness.store.openBodySink();
    await sink.write(body);
    const spooled = await sink.finish();
    await harness.store.recordDeliveries([
      {
        requestId,
        source: 'webhook',
        body: spooled,
        bodySha256: createHash('sha256').update(body).digest(),
        rawHeaders: [],
        receivedAtMs: Date.now(),
      },
    ]);
    const pass = await harness.store.indexDeliveries(deliveryRules);
    expect(pass.settled.map((e) => e.requestId)).toEqual([requestId]);
  });

  it('sweeps spool files that no row references once they are old', async () => {
    const dbPath = tempDbPath();
    const first = new SqliteStore({ path: dbPath });
    await first.close();
    const orphan = `${dbPath}-bodies/0-orphan.body`;
    writeFileSync(orphan, 'x');
    const { utimesSync } = await import('node:fs');
    utimesSync(orphan, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    const fresh = `${dbPath}-bodies/1-fresh.body`;
    writeFileSync(fresh, 'y');
    const store = new SqliteStore({ path: dbPath });
    await waitFor(() => !existsSync(orphan));
    expect(existsSync(fresh)).toBe(true);
    await store.close();
  });
});

describe('the worker-thread body parser', () => {
  it('gives the same verdicts as the envelope parser, off the event loop', async () => {
    const parser = createBodyParser();
    const dir = tempDbPath();
    const cases: [string, string][] = [
      ['ok', largeSttEnvelope('job-w', 300 * 1024).toString()],
      ['bare', JSON.stringify({ status: 'Success', response: { texts: ['x'] } })],
      ['array', '[1,2]'],
      ['string', '"hello"'],
      ['nostatus', '{"jobId":"j"}'],
      ['objstatus', '{"status":{"a":1}}'],
      ['broken', '{"status":"Succ'],
    ];
    try {
      for (const [name, text] of cases) {
        const path = `${dir}-${name}.json`;
        writeFileSync(path, text);
        expect(await parser.parse(path), name).toEqual(deliveryRules.parse(Buffer.from(text), 'job'));
      }
      expect(await parser.parse(`${dir}-missing.json`)).toMatchObject({ ok: false });
    } finally {
      await parser.close();
    }
  });

  it('gives the notification parser verdicts on subscription bodies: an hour-long ACE transcript, a read-back', async () => {
    const parser = createBodyParser();
    const dir = tempDbPath();
    // ~1.5 MB: the transcript of an hour-long call (about 10 000 items), as an ACE event and as REST returns it.
    const transcript = [...Array(10_000).keys()].map((i) => ({
      speakerId: `p-${i % 2}`,
      text: `utterance ${i} `.repeat(12),
      start: i * 0.36,
      end: i * 0.36 + 0.3,
    }));
    const insights = {
      domain: 'pbx',
      sourceRecordId: '2728084995017',
      sourceSessionId: 's-a0e7b361',
      title: 'Call from A to B',
      lastModifiedTime: '2026-11-26T21:15:43.103Z',
      speakerInfo: [{ speakerId: 'p-0', name: 'A' }],
      insights: { Transcript: transcript, AIScore: [{ value: '7' }] },
    };
    const event = {
      uuid: 'e2c9f5b8-0e1c-4f0e-9d6e-7a0a3b1c2d3e',
      event: '/ai/ringsense/v1/public/accounts/37439510/domains/pbx/insights',
      timestamp: '2026-11-26T21:16:16.000Z',
      subscriptionId: 'sub-1',
      ownerId: '62264425',
      body: insights,
    };
    const cases: [string, string][] = [
      ['event', JSON.stringify(event)],
      ['readback', JSON.stringify(insights)],
      ['no-key', JSON.stringify({ ...event, body: { insights: {} }, uuid: undefined })],
      ['job-envelope', largeSttEnvelope('job-n', 300 * 1024).toString()],
    ];
    try {
      expect(cases[0]![1].length).toBeGreaterThan(1_400_000);
      for (const [name, text] of cases) {
        const path = `${dir}-${name}.json`;
        writeFileSync(path, text);
        const whole = deliveryRules.parse(Buffer.from(text), 'subscription');
        expect(await parser.parse(path, 'subscription'), name).toEqual(whole);
      }
      expect(await parser.parse(`${dir}-event.json`, 'subscription')).toMatchObject({
        ok: true,
        envelope: { notification: { uuid: event.uuid, insights: { sourceRecordId: '2728084995017' } } },
      });
    } finally {
      await parser.close();
    }
  });
});

describe('a delivery that starts with a UTF-8 byte order mark (tester report)', () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

  it('the worker parser skips one leading BOM, as the envelope parser does', async () => {
    const parser = createBodyParser();
    const dir = tempDbPath();
    try {
      const json = largeSttEnvelope('job-bom-w', 300 * 1024);
      const path = `${dir}-bom.json`;
      writeFileSync(path, Buffer.concat([BOM, json]));
      // Before the fix: `not JSON: Unexpected token`, and the request never settled.
      expect(await parser.parse(path)).toMatchObject({ ok: true, envelope: { jobId: 'job-bom-w', status: 'Success' } });
      const twice = `${dir}-bom2.json`;
      writeFileSync(twice, Buffer.concat([BOM, BOM, json]));
      expect(await parser.parse(twice)).toMatchObject({ ok: false, error: expect.stringMatching(/^not JSON/) });
    } finally {
      await parser.close();
    }
  });

  it('settles a spooled 1 MiB delivery with a BOM and keeps its bytes, BOM included', async () => {
    harness = await startHarness(tempDbPath());
    const { requestId, callbackUrl } = await harness.mint();
    const body = Buffer.concat([BOM, largeSttEnvelope('job-bom', MiB)]);
    expect(await post(callbackUrl, body)).toBe(200);
    expect(spoolFiles(harness.dbPath)).toHaveLength(1);
    const request = await waitFor(async () => {
      const r = await harness!.store.findRequest('job-bom');
      return r?.state === 'succeeded' && r;
    }, 30_000);
    expect(request.requestId).toBe(requestId);
    const [delivery] = await harness.store.listDeliveries(requestId);
    expect(delivery!.body.equals(body)).toBe(true);
  });
});
