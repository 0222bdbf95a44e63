import { readFileSync } from 'node:fs';
import { JobhookError } from '../errors.js';

/**
 * `--body file.json` (or `-` for stdin) read and parsed, with the mistakes a newcomer makes turned into one
 * line that says the fix: a missing or unreadable file, and invalid JSON with its line and column (node's
 * own message gives a position only for some errors, and never a line).
 */
export function readJsonBody(source: string, flag = '--body'): unknown {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a folder'
          : code === 'EACCES'
            ? 'is not readable'
            : `cannot be read (${code ?? (error as Error).message})`;
    const what = source === '-' ? 'stdin' : `file ${source}`;
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `${flag} ${what} ${why}; give the path of a JSON file (or - to read stdin)`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const where = source === '-' ? 'stdin' : source;
    const { line, column, problem } = locateJsonError(text);
    throw new JobhookError(
      'JH_ERR_INVALID_ARGUMENT',
      `${flag} ${where} is not valid JSON: ${problem} at line ${line}, column ${column}; fix it (\`jobhook submit --help\` shows a body for each API)`,
      { cause: error },
    );
  }
}

/**
 * Where the first syntax error in `text` is: a small JSON scanner, run only after JSON.parse failed. It
 * follows RFC 8259 closely enough to point at the right character for the usual slips (trailing comma,
 * missing quote or comma, single quotes, an unclosed bracket).
 */
export function locateJsonError(text: string): { line: number; column: number; problem: string } {
  let i = 0;
  const fail = (problem: string): never => {
    throw Object.assign(new Error(problem), { offset: i });
  };
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expect = (char: string, problem: string): void => {
    space();
    if (text[i] !== char) fail(i >= text.length ? 'unexpected end' : problem);
    i++;
  };
  const string = (): void => {
    if (text[i] !== '"') fail(text[i] === "'" ? 'strings need double quotes' : 'expected a double-quoted string');
    for (i++; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\') i++;
      else if (text[i]! < ' ') fail('control character in a string');
    }
    if (i >= text.length) fail('unterminated string');
    i++;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === undefined) fail('unexpected end');
    else if (c === '{') {
      i++;
      space();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] === '}') fail('trailing comma');
        string();
        expect(':', "expected ':' after a property name");
        value();
        space();
        if (text[i] === '}') {
          i++;
          return;
        }
        expect(',', "expected ',' or '}'");
      }
    } else if (c === '[') {
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] === ']') fail('trailing comma');
        value();
        space();
        if (text[i] === ']') {
          i++;
          return;
        }
        expect(',', "expected ',' or ']'");
      }
    } else if (c === '"' || c === "'") string();
    else {
      const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!literal) fail(`unexpected ${JSON.stringify(c)}`);
      i += literal![0].length;
    }
  };
  let problem = 'invalid JSON';
  try {
    value();
    space();
    if (i < text.length) fail('unexpected text after the JSON value');
  } catch (error) {
    problem = (error as Error).message;
    i = (error as { offset?: number }).offset ?? i;
  }
  const before = text.slice(0, Math.min(i, text.length));
  const lines = before.split('\n');
  return { line: lines.length, column: lines.at(-1)!.length + 1, problem };
}
