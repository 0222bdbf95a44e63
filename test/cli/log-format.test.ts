import { describe, expect, it } from 'vitest';
import { formatLogLine, prettyDestination } from '../../src/cli/log-format.js';

describe('formatLogLine', () => {
  const at = new Date(2026, 0, 2, 10, 41, 2).getTime();

  it('turns a pino JSON line into one short line: time, level, message, ids, other fields', () => {
    const line = JSON.stringify({
      level: 30,
      time: at,
      pid: 1,
      hostname: 'h',
      name: 'jobhook',
      msg: 'delivery stored',
      requestId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      jobId: '8f2c4d1e-0000-4000-8000-000000000000',
      deliveryId: 3,
    });
    expect(formatLogLine(line)).toBe('10:41:02 info  delivery stored  req 0190a1b2… job 8f2c4d1e…  deliveryId=3\n');
  });

  it('shows an error message, cuts long fields to one line, and passes a non-JSON line through', () => {
    const line = JSON.stringify({
      level: 50,
      time: at,
      msg: 'shutdown failed',
      open: Array.from({ length: 40 }, (_, i) => `forward-${i}`),
      err: { type: 'Error', message: 'disk full', stack: 'Error: disk full\n    at x' },
    });
    const text = formatLogLine(line);
    expect(text).toMatch(/^10:41:02 error shutdown failed {2}open=\["forward-0".{50,}… {2}error: disk full\n$/);
    expect(text.split('\n')).toHaveLength(2);
    expect(formatLogLine('not json')).toBe('not json\n');
  });

  it('is a pino destination writing formatted lines to its target', () => {
    const written: string[] = [];
    prettyDestination({ write: (t: string) => written.push(t) }).write(
      JSON.stringify({ level: 40, time: at, msg: 'rate limited; waiting' }) + '\n',
    );
    expect(written).toEqual(['10:41:02 warn  rate limited; waiting\n']);
  });
});
