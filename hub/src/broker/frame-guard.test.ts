import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { FrameScanner } from './frame-guard.js';

const publish = (payloadBytes: number) =>
  mqttPacket.generate({ cmd: 'publish', topic: 'roadwatch/v1/devices/veh-1/events', payload: Buffer.alloc(payloadBytes, 1), qos: 1, messageId: 7, retain: false, dup: false });
const ping = mqttPacket.generate({ cmd: 'pingreq' });

describe('FrameScanner', () => {
  it('accepts frames up to the limit, across any chunking', () => {
    const stream = Buffer.concat([publish(10), ping, publish(1000), ping, publish(20_000)]);
    for (const size of [1, 2, 3, 7, 64, 4096, stream.length]) {
      const scanner = new FrameScanner(21_000);
      for (let i = 0; i < stream.length; i += size) expect(scanner.scan(stream.subarray(i, i + size))).toBeNull();
    }
  });

  it('reports an oversized frame from its header alone', () => {
    const frame = publish(300_000);
    const scanner = new FrameScanner(100_000);
    expect(scanner.scan(Buffer.concat([ping, frame.subarray(0, 5)]))).toBeGreaterThan(300_000);
  });

  it('reports a malformed remaining length', () => {
    const scanner = new FrameScanner(1000);
    expect(scanner.scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]))).toBe(-1);
  });
});
