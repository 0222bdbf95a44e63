import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openRuntime } from '../../src/cli/runtime.js';
import { parseInvocation } from '../../src/config.js';
import { tempDbPath } from '../helpers/temp.js';

describe('openRuntime', () => {
  it('logs one fatal line when the database file is removed under it', async () => {
    const dbPath = tempDbPath();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { config } = parseInvocation(['serve', '--db', dbPath], {});
    const runtime = await openRuntime(config, pino({ level: 'info' }, sink));
    try {
      rmSync(dbPath);
      // The store checks its files every second between writes; a bounded wait well past that.
      for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(lines).toHaveLength(1);
      const entry = JSON.parse(lines[0]!) as { level: number; msg: string };
      expect(entry.level).toBe(60); // fatal
      expect(entry.msg).toBe(`the database file ${dbPath} was removed or replaced; restart jobhook`);
    } finally {
      await runtime.store.close().catch(() => undefined);
    }
  });
});
