import express from 'express';
import Database from 'better-sqlite3';

/**
 * The ingest baseline: a bare express app with express.json() and one SQLite
 * insert per request (WAL, synchronous=NORMAL) — the floor our webhook is
 * compared against. usage: node bench/baseline-server.ts <port> <db file>
 */
const [port, file] = process.argv.slice(2);
const db = new Database(file as string);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, payload TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO inbox (message_id, payload) VALUES (?, ?) ON CONFLICT (message_id) DO NOTHING');
const app = express();
app.use(express.json({ limit: '256kb' }));
app.post('/webhooks/zapi', (req, res) => {
  insert.run(String(req.body?.messageId), JSON.stringify(req.body));
  res.json({ received: true });
});
app.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
