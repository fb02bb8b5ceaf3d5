import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 for link faults (an agent and its broker, a pool and Postgres) without touching the real server:
 *
 * - `stall()`: stops forwarding in both directions but keeps every socket open (a dead radio link:
 *   nothing arrives, nothing is refused; the kernel buffers fill and TCP backs off). `resume()`
 *   forwards again, nothing lost.
 * - `cut()`: destroys every connection (FIN both ways); new connections are accepted.
 * - `reset()`: `resetAndDestroy()` on every socket (RST both ways); new connections are accepted.
 * - `down()`/`up()`: refuse new connections (the listener is closed) after destroying the open ones,
 *   and accept them again on the same port.
 *
 * A side closing on its own (the broker dropping a silent client) closes the other side too.
 */
export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Open client connections. */
  readonly connections: number;
  /** Client connections accepted so far. */
  readonly accepted: number;
  stall(): void;
  resume(): void;
  cut(): void;
  reset(): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startTcpProxy(target: { host: string; port: number }, scheme = 'mqtt'): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let stalled = false;
  let accepted = 0;

  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (to.destroyed) return;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!stalled && !from.destroyed) from.resume();
        });
      }
    });
  };

  const onConnection = (client: Socket): void => {
    accepted++;
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    const close = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    forward(client, upstream);
    forward(upstream, client);
    if (stalled) {
      client.pause();
      upstream.pause();
    }
  };

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const closeServer = async (): Promise<void> => {
    const current = server;
    server = null;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };
  const destroyAll = (how: 'destroy' | 'reset'): void => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      for (const socket of [pair.client, pair.upstream]) {
        if (socket.destroyed) continue;
        // resetAndDestroy needs a connected socket; one still connecting is just destroyed.
        if (how === 'reset' && !socket.connecting) socket.resetAndDestroy();
        else socket.destroy();
      }
    }
  };

  let server: Server | null = createServer(onConnection);
  const port = await listen(server, 0);
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    stall() {
      stalled = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    resume() {
      stalled = false;
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    cut() {
      destroyAll('destroy');
    },
    reset() {
      destroyAll('reset');
    },
    async down() {
      await Promise.all([closeServer(), Promise.resolve(destroyAll('destroy'))]);
    },
    async up() {
      if (server) return;
      server = createServer(onConnection);
      await listen(server, port);
    },
    async close() {
      stalled = false;
      destroyAll('destroy');
      await closeServer();
    },
  };
}
