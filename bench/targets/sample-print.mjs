// The published sample receiver pattern (code-samples/ai/server.js, as the API reference describes it):
// answer 200 before reading the body, then buffer it, JSON.parse it and pretty-print it. Nothing is stored.
// Its output goes to a log file (argv[2]), as `node server.js > server.log` would.
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';

const log = createWriteStream(process.argv[2]);
const server = createServer((req, res) => {
  res.statusCode = 200;
  res.end();
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const json = JSON.parse(body);
    log.write(JSON.stringify(json, null, 2) + '\n');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
