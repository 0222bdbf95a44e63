import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateJsonError, readJsonBody } from '../../src/cli/json-body.js';
import { tempDir } from '../helpers/temp.js';

describe('--body files', () => {
  it('points at the line and column of the usual JSON slips', () => {
    expect(locateJsonError('{\n  "texts": ["a"],\n}')).toEqual({ line: 3, column: 1, problem: 'trailing comma' });
    expect(locateJsonError('{\n "texts": ["x"\n  "y"]\n}')).toMatchObject({ line: 3, column: 3 });
    expect(locateJsonError("{'texts': []}")).toMatchObject({
      line: 1,
      column: 2,
      problem: 'strings need double quotes',
    });
    expect(locateJsonError('{"a": 1')).toMatchObject({ line: 1, column: 8, problem: 'unexpected end' });
    expect(locateJsonError('[1,2,,]')).toMatchObject({ line: 1, column: 6 });
    expect(locateJsonError('{"a": 1} x')).toMatchObject({ line: 1, column: 10 });
  });

  it('says which file is missing or broken, with the fix', () => {
    const dir = tempDir();
    const broken = join(dir, 'body.json');
    writeFileSync(broken, '{\n  "texts": ["hello"],\n}\n');
    expect(() => readJsonBody(broken)).toThrow(
      expect.objectContaining({
        code: 'JH_ERR_INVALID_ARGUMENT',
        message: expect.stringContaining(`--body ${broken} is not valid JSON: trailing comma at line 3, column 1;`),
      }),
    );
    expect(() => readJsonBody(join(dir, 'missing.json'))).toThrow(/--body file .*missing\.json does not exist; give/);
    expect(() => readJsonBody(dir)).toThrow(/is a folder/);
    writeFileSync(broken, '{"texts": ["hello"]}');
    expect(readJsonBody(broken)).toEqual({ texts: ['hello'] });
  });
});
