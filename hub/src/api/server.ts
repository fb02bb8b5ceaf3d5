import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { UserError } from '@roadwatch/shared';
import type { Hono } from 'hono';
import type { Logger } from 'pino';

export interface HttpServerOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  app: Hono<any>;
  host: string;
  port: number;
  logger: Logger;
  /** How long stop() lets open requests finish before cutting their connections. */
  closeGraceMs?: number;
}

export interface RunningHttpServer {
  port: number;
  close(): Promise<void>;
}

/** Serves the Hono app on node:http; logs `{"msg":"http listening","port":N}` once bound. */
export async function startHttpServer({ app, host, port, logger, closeGraceMs = 5_000 }: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const bound = await new Promise<number>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(explainHttpListenError(error, port, host));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
  server.on('error', (error) => logger.error({ err: error }, 'http server error'));
  logger.info({ port: bound, host }, 'http listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), closeGraceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

export function explainHttpListenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  if (error.code === 'EADDRINUSE') {
    return new UserError(
      `port ${port} is already in use (another roadwatch-hub or web server?)`,
      'stop it or set ROADWATCH_HUB_HTTP_PORT to a free port (0 picks one)',
    );
  }
  if (error.code === 'EACCES') {
    return new UserError(`HTTP port ${port}: permission denied`, 'use a port above 1023 or set ROADWATCH_HUB_HTTP_PORT (0 picks one)');
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new UserError(`HTTP host ${host} is not an address of this machine`, 'set ROADWATCH_HUB_HOST to a local address such as 0.0.0.0 or 127.0.0.1');
  }
  return error;
}
