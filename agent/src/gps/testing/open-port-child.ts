/**
 * Run as a child process (e.g. as an unprivileged uid): opens the serial port given as argv[2]
 * with SerialGpsSource through the real serialport binding and prints its status as JSON.
 */
import pino from 'pino';
import { SerialGpsSource } from '../serial-gps-source.js';

const port = process.argv[2] ?? '/dev/ttyUSB0';
const source = new SerialGpsSource({ port, baud: 9600, logger: pino({ level: 'silent' }), reopenMinMs: 60_000, reopenMaxMs: 60_000 });
await source.start();
const status = source.status();
await source.stop();
process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), state: status.state, message: status.message })}\n`);
