// The reference for bench:api's latencies: what answering with a page of JSON costs on this machine
// when nothing else happens — a node:http server in its own process (as the hub is), no framework, no
// database, JSON.stringify of `rows` hourly-shaped rows for every request.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const SERVER = `
const http = require('node:http');
const rows = Array.from({ length: Number(process.argv[1]) }, (_, i) => ({
  hour: new Date(Date.UTC(2026, 9, 2) + Math.floor(i / 4) * 3600000).toISOString(), deviceId: 'bench-00007', class: 'D' + (i % 4) + '0',
  events: 1 + (i % 7), avgConfidence: 0.6 + (i % 37) / 100 + 1 / 3000, maxConfidence: 0.9,
}));
const server = http.createServer((req, res) => {
  const body = JSON.stringify({ from: rows[0].hour, to: rows[rows.length - 1].hour, items: rows, limit: rows.length, offset: 0, nextOffset: null });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

export class BareJsonServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(rows: number): Promise<BareJsonServer> {
    const child = spawn(process.execPath, ['-e', SERVER, String(rows)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = await new Promise<string[]>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the reference server exited (${code}) before listening`)));
      createInterface({ input: child.stdout! }).once('line', (l) => resolve([l]));
    });
    return new BareJsonServer(child, `http://127.0.0.1:${Number(line)}`);
  }

  stop(): void {
    this.child.kill();
  }
}
