import { describe, expect, it } from 'vitest';
import { canPublish, canSubscribe } from './acl.js';

const own = (channel: string) => `roadwatch/v1/devices/veh-1/${channel}`;
const other = (channel: string) => `roadwatch/v1/devices/veh-2/${channel}`;

describe('canPublish', () => {
  it.each([
    [own('events'), true],
    [own('status'), true],
    [own('acks'), false],
    [own('commands'), false],
    [other('events'), false],
    [other('status'), false],
    ['roadwatch/v1/devices/+/events', false],
    ['roadwatch/v1/devices/veh-1/#', false],
    ['roadwatch/v1/devices/veh-1/events/extra', false],
    ['roadwatch/v2/devices/veh-1/events', false],
    ['$SYS/broker/uptime', false],
    ['', false],
    ['anything', false],
  ])('veh-1 → %s: %s', (topic, allowed) => {
    expect(canPublish('veh-1', topic).allowed).toBe(allowed);
  });

  it('explains a denial', () => {
    const decision = canPublish('veh-1', other('events'));
    expect(decision).toEqual({ allowed: false, reason: expect.stringContaining('belongs to device veh-2') });
  });

  it('returns the channel when allowed', () => {
    expect(canPublish('veh-1', own('events'))).toEqual({ allowed: true, channel: 'events' });
  });
});

describe('canSubscribe', () => {
  it.each([
    [own('acks'), true],
    [own('commands'), true],
    [own('events'), false],
    [own('status'), false],
    [other('acks'), false],
    [other('commands'), false],
    ['roadwatch/v1/devices/+/acks', false],
    ['roadwatch/v1/devices/veh-1/+', false],
    ['roadwatch/v1/devices/#', false],
    ['#', false],
    ['$share/g/roadwatch/v1/devices/veh-1/acks', false],
    ['$SYS/#', false],
  ])('veh-1 → %s: %s', (filter, allowed) => {
    expect(canSubscribe('veh-1', filter).allowed).toBe(allowed);
  });
});
