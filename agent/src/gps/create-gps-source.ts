import type { Logger } from 'pino';
import type { AgentConfig } from '../config/schema.js';
import type { GpsSource } from './gps-source.js';
import { GpsdSource } from './gpsd-source.js';
import { NmeaFileSource } from './nmea-file-source.js';
import { SerialGpsSource } from './serial-gps-source.js';

export type GpsConfig = AgentConfig['gps'];

/** The receiver the config names: NMEA on a serial port, gpsd, or a recorded log played in real time. */
export function createGpsSource(config: GpsConfig, deps: { logger: Logger }): GpsSource {
  const timing = { noDataAfterMs: config.noDataS * 1000, noFixAfterMs: config.noFixS * 1000 };
  if (config.source === 'file' && config.file !== undefined) {
    return new NmeaFileSource({ file: config.file, pace: 'realtime', logger: deps.logger, ...timing });
  }
  if (config.source === 'gpsd') {
    return new GpsdSource({ host: config.gpsdHost, port: config.gpsdPort, logger: deps.logger, ...timing, reconnectMinMs: config.reopenMinMs, reconnectMaxMs: config.reopenMaxMs });
  }
  return new SerialGpsSource({ port: config.port, baud: config.baud, logger: deps.logger, ...timing, reopenMinMs: config.reopenMinMs, reopenMaxMs: config.reopenMaxMs });
}
