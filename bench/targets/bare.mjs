// The ceiling: read the body, answer 200, keep nothing.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`PORT ${server.address().port}\n`));
