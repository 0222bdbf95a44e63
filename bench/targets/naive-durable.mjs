// A naive durable receiver: one fsync'd INSERT (its own transaction) per request, then 200.
import { createServer } from 'node:http';
import Database from 'better-sqlite3';

const db = new Database(process.argv[2]);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, path TEXT, body BLOB, received_at INTEGER)');
const insert = db.prepare('INSERT INTO deliveries (path, body, received_at) VALUES (?, ?, ?)');

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    insert.run(req.url, Buffer.concat(chunks), Date.now());
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`PORT ${server.address().port}\n`));
