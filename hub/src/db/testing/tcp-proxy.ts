import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on (kept across cut/restore). */
  port: number;
  /** Open client connections now. */
  readonly connections: number;
  /** Destroys every connection and stops accepting new ones (connects are refused), like a database going away. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 to `target`: put it between a pool and Postgres to take "the database"
 * away and bring it back without touching the real (shared) server.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const onConnection = (client: Socket): void => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const destroy = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', destroy).on('close', destroy);
    upstream.on('error', destroy).on('close', destroy);
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  let server: Server | null = createServer(onConnection);
  const port = await listen(server, 0);
  const stop = async (): Promise<void> => {
    const current = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };
  return {
    port,
    get connections() {
      return [...sockets].filter((s) => s.remotePort !== target.port).length;
    },
    cut: stop,
    async restore() {
      if (server) return;
      server = createServer(onConnection);
      await listen(server, port);
    },
    close: stop,
  };
}
