import { explainListenError } from '../listen-error.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
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
    const onError = (error: NodeJS.ErrnoException): void => reject(explainListenError(error, { what: 'HTTP', port, host, portVariable: 'ROADWATCH_HUB_HTTP_PORT', usualHolder: 'another roadwatch-hub or web server' }));
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
        // A kept-alive connection whose request finishes after close() began becomes idle later: close it then.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        sweep.unref();
        server.close(() => {
          clearTimeout(timer);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
