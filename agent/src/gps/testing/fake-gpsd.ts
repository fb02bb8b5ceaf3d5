import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** The banner gpsd 3.22 sends on connect (recorded from the Debian 12 package). */
export const GPSD_VERSION = '{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}';

/** A TPV as gpsd 3.22 sends it (fields recorded from a real gpsd fed NMEA on a pty). */
export function gpsdTpv(time: string, lat: number, lon: number, mode = 3): string {
  return JSON.stringify({
    class: 'TPV',
    device: '/dev/ttyUSB0',
    mode,
    time,
    ept: 0.005,
    lat,
    lon,
    altHAE: 58.5,
    altMSL: 12.5,
    alt: 12.5,
    epv: 29.9,
    track: 45.0,
    magtrack: 46.4554,
    magvar: 1.5,
    speed: 11.575,
    climb: 0.0,
    geoidSep: 46.0,
    eph: 17.1,
    sep: 30.4,
  });
}

/** A SKY as gpsd 3.22 sends it: no uSat/nSat yet, `used` per satellite. */
export function gpsdSky(used: number, hdop: number): string {
  const satellites = Array.from({ length: used + 2 }, (_, i) => ({ PRN: i + 1, el: 40, az: 90, ss: 35, used: i < used, gnssid: 0, svid: i + 1 }));
  return JSON.stringify({ class: 'SKY', device: '/dev/ttyUSB0', xdop: 0.5, ydop: 0.6, vdop: 1.3, tdop: 0.7, hdop, gdop: 1.9, pdop: 1.6, satellites });
}

/**
 * A tiny gpsd speaking its real JSON: banner on connect; after `?WATCH=…` it answers DEVICES and
 * WATCH, then whatever the test sends with `send()`.
 */
export class FakeGpsd {
  readonly received: string[] = [];
  private server: Server | null = null;
  private clients = new Set<Socket>();
  private watching = new Set<Socket>();
  devices: string[] = ['/dev/ttyUSB0'];
  port = 0;

  async listen(port = 0): Promise<number> {
    const server = createServer((socket) => {
      this.clients.add(socket);
      socket.on('close', () => {
        this.clients.delete(socket);
        this.watching.delete(socket);
      });
      socket.on('error', () => {});
      socket.write(`${GPSD_VERSION}\n`);
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) !== -1) {
          const command = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          this.received.push(command);
          if (command.startsWith('?WATCH=')) {
            const devices = this.devices.map((path) => ({ class: 'DEVICE', path, driver: 'NMEA0183', activated: '2026-11-22T08:00:00.000Z', flags: 1, native: 0, bps: 9600, parity: 'N', stopbits: 1, cycle: 1.0 }));
            socket.write(`${JSON.stringify({ class: 'DEVICES', devices })}\n`);
            socket.write('{"class":"WATCH","enable":true,"json":true,"nmea":false,"raw":0,"scaled":false,"timing":false,"split24":false,"pps":false}\n');
            this.watching.add(socket);
          }
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  get watchers(): number {
    return this.watching.size;
  }

  /** Sends lines to every client that sent WATCH. */
  send(...lines: string[]): void {
    for (const socket of this.watching) socket.write(lines.map((l) => `${l}\n`).join(''));
  }

  /** Drops every client (gpsd restarting). */
  dropClients(): void {
    for (const socket of this.clients) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropClients();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
