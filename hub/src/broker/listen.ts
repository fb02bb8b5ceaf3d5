import type { AddressInfo, Server } from 'node:net';
import { explainListenError } from '../listen-error.js';

/** Listens and returns the bound port; turns the usual failures into a UserError naming the fix. */
export function listenMqtt(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(explainListenError(error, { what: 'MQTT', port, host, portVariable: 'ROADWATCH_HUB_MQTT_PORT', usualHolder: 'another MQTT broker such as mosquitto' }));
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
