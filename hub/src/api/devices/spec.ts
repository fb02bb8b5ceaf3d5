import { z } from 'zod';
import { DEVICE_STATES } from '../../services/device-views.js';
import { component, ErrorEnvelopeSchema, type ApiOperation } from '../openapi/operation.js';
import { enumListParam, limitParam, offsetParam, pathSchema, querySchema } from '../query.js';
import { DEVICE_ID_PATTERN } from '@roadwatch/shared';

export const DevicesQuerySchema = querySchema({
  limit: limitParam('devices'),
  offset: offsetParam('devices'),
  state: enumListParam('state', DEVICE_STATES, 'Only devices in these states (from their latest status; unknown = no status yet).'),
});

/** The id is looked up as given: an id no device can have is simply not found. */
export const DeviceIdPathSchema = pathSchema({
  id: z.string().meta({ description: 'The device id (as registered with roadwatch-hub devices add).', openapi: { type: 'string', pattern: DEVICE_ID_PATTERN.source } }),
});

const time = z.iso.datetime();

export const DeviceSchema = component(
  'Device',
  z.object({
    deviceId: z.string(),
    createdAt: time,
    state: z.enum(DEVICE_STATES).meta({ description: 'From the latest status: online, offline (last will or shutdown), unknown (no status yet).' }),
    online: z.boolean(),
    lastSeenAt: time.nullable().meta({ description: 'Latest batch of events or latest status, whichever is newer.' }),
    lastEventAt: time.nullable().meta({ description: 'When the latest batch of events arrived.' }),
    statusAt: time.nullable().meta({ description: 'When the latest status arrived.' }),
    queue: z
      .object({
        depth: z.number().int().nullable().meta({ description: 'Events waiting in the vehicle outbox.' }),
        bytes: z.number().int().nullable(),
        oldestUnsyncedAgeS: z.number().nullable(),
        lastAckAt: z.string().nullable(),
        evictedTotal: z.number().int().nullable(),
      })
      .meta({ description: 'The outbox as the latest status reported it; null = not reported (an offline last will reports nothing).' }),
    versions: z.object({
      agent: z.string().nullable().meta({ description: 'agentVersion from the latest status.' }),
      model: z.string().nullable().meta({ description: 'The detection model of the newest event.' }),
    }),
    sensors: z.record(z.string(), z.string()).meta({ description: 'Sensor states from the latest status: ok, degraded, fault, absent.' }),
    faults: z.array(z.string()).meta({ description: 'One line per sensor that is not ok: what is wrong and what to do.' }),
    detector: z
      .object({
        p95Ms: z.number().nullable().meta({ description: 'Inference p95 over the last 256 frames, ms (the detect step as `roadwatch status` shows it).' }),
        fps: z.number().nullable().meta({ description: 'Frames detected a second over the last 10 s (failed frames not counted).' }),
      })
      .meta({
        description:
          'The detector as the latest status reported it; null = not reported (an agent without a camera or from before this field, a detector that has not run yet, an offline last will).',
      }),
  }),
  'A vehicle with its latest status.',
);

export const DevicePageSchema = component(
  'DevicePage',
  z.object({ items: z.array(DeviceSchema).meta({ description: 'By device id.' }), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }),
);

export const deviceOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/v1/devices',
    operationId: 'listDevices',
    tag: 'devices',
    summary: 'List vehicles',
    description: 'Every registered vehicle with its state, last seen time, outbox queue and versions, by device id.',
    access: 'read',
    query: DevicesQuerySchema,
    responses: { 200: { description: 'A page of devices.', schema: DevicePageSchema } },
  },
  {
    method: 'get',
    path: '/api/v1/devices/{id}',
    operationId: 'getDevice',
    tag: 'devices',
    summary: 'One vehicle',
    access: 'read',
    params: DeviceIdPathSchema,
    responses: {
      200: { description: 'The device.', schema: DeviceSchema },
      404: { description: 'No device with this id is registered.', schema: ErrorEnvelopeSchema },
    },
  },
];
