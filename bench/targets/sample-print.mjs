// The published sample receiver pattern (code-samples/ai/server.js, as the API reference describes it):
// answer 200 before reading the body, then buffer it, parse it and pretty-print it with console.log.
// Nothing is stored. The bench points its stdout at a log file, as `node server.js > server.log` would.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  res.statusCode = 200;
  res.end();
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    console.log(JSON.stringify(JSON.parse(text), null, 4));
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`PORT ${server.address().port}\n`));
