import type { AddressInfo, Server } from 'node:net';
import { UserError } from '@roadwatch/shared';

/** Listens and returns the bound port; turns the usual failures into a UserError naming the fix. */
export function listenMqtt(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(explainListenError(error, port, host));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export function explainListenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  if (error.code === 'EADDRINUSE') {
    return new UserError(
      `port ${port} is already in use (another MQTT broker such as mosquitto?)`,
      'stop it or set ROADWATCH_HUB_MQTT_PORT to a free port (0 picks one)',
    );
  }
  if (error.code === 'EACCES') {
    return new UserError(`MQTT port ${port}: permission denied`, 'use a port above 1023 or set ROADWATCH_HUB_MQTT_PORT (0 picks one)');
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new UserError(`MQTT host ${host} is not an address of this machine`, 'set ROADWATCH_HUB_HOST to a local address such as 0.0.0.0 or 127.0.0.1');
  }
  return error;
}
