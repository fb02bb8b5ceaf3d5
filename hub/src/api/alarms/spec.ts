import { z } from 'zod';
import { ALARM_SEVERITIES, ALARM_STATUSES, ALARM_TYPES } from '../../services/alarm-types.js';
import { component, ErrorEnvelopeSchema, type ApiOperation } from '../openapi/operation.js';
import { boolParam, deviceIdParam, enumListParam, idPathParam, limitParam, offsetParam, pathSchema, querySchema } from '../query.js';

export const AlarmsQuerySchema = querySchema({
  limit: limitParam('alarms'),
  offset: offsetParam('alarms'),
  latest: boolParam('latest', {
    fallback: false,
    description: 'true: only the newest alarm of each (source, type) — the current state of every source — before the other filters apply.',
  }),
  status: enumListParam('status', ALARM_STATUSES, 'Only alarms in these states (comma-separated or repeated).'),
  severity: enumListParam('severity', ALARM_SEVERITIES, 'Only alarms of these severities.'),
  type: enumListParam('type', ALARM_TYPES, 'Only alarms of these types.'),
  deviceId: deviceIdParam('Only alarms about this vehicle (hotspot alarms have no vehicle).'),
});

export const AlarmIdPathSchema = pathSchema({ id: idPathParam('id', 'an alarm, from GET /api/v1/alarms', 'The alarm id.') });

const time = z.iso.datetime();

export const AlarmSchema = component(
  'Alarm',
  z.object({
    id: z.number().int(),
    type: z.enum(ALARM_TYPES),
    source: z.string().meta({ description: 'What the alarm is about: an H3 cell (severe_damage, hotspot), a device id (device_offline, outbox_backlog) or <deviceId>/<sensor> (sensor_fault).' }),
    deviceId: z.string().nullable().meta({ description: 'The vehicle concerned (for severe_damage the last one that reported it; null for hotspot).' }),
    severity: z.enum(ALARM_SEVERITIES),
    status: z.enum(ALARM_STATUSES).meta({ description: 'active_unack → active_ack → cleared, or active_* → cleared.' }),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
    createdAt: time,
    updatedAt: time,
    lastSeenAt: time.meta({ description: 'When the rule last fired with new content while the alarm was open.' }),
    count: z.number().int().meta({ description: 'Times the rule fired while the alarm was open (1 when opened).' }),
    ackedAt: time.nullable(),
    ackedBy: z.string().nullable().meta({ description: 'Name of the API token that acknowledged it (or the rule engine).' }),
    clearedAt: time.nullable(),
    clearedBy: z.string().nullable(),
  }),
  'One alarm. At most one alarm per (type, source) is open (not cleared) at a time.',
);

export const AlarmPageSchema = component(
  'AlarmPage',
  z.object({
    items: z.array(AlarmSchema).meta({ description: 'Newest first (createdAt, then id).' }),
    total: z.number().int().meta({ description: 'Alarms matching the filters, all pages together.' }),
    limit: z.number().int(),
    offset: z.number().int(),
  }),
);

const transition = (verb: 'ack' | 'clear'): ApiOperation => ({
  method: 'post',
  path: `/api/v1/alarms/{id}/${verb}`,
  operationId: verb === 'ack' ? 'ackAlarm' : 'clearAlarm',
  tag: 'alarms',
  summary: verb === 'ack' ? 'Acknowledge an alarm' : 'Clear an alarm',
  description:
    verb === 'ack'
      ? 'active_unack → active_ack. Records the token name as ackedBy and the time as ackedAt. No request body.'
      : 'active_unack or active_ack → cleared. Records the token name as clearedBy and the time as clearedAt. If the condition comes back, the rule opens a new alarm. No request body.',
  access: 'ack',
  params: AlarmIdPathSchema,
  responses: {
    200: { description: 'The alarm after the change.', schema: AlarmSchema },
    404: { description: 'No alarm with this id.', schema: ErrorEnvelopeSchema },
    409: {
      description: verb === 'ack' ? 'The alarm is already acknowledged, or cleared.' : 'The alarm is already cleared.',
      schema: ErrorEnvelopeSchema,
    },
  },
});

export const alarmOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/v1/alarms',
    operationId: 'listAlarms',
    tag: 'alarms',
    summary: 'List alarms',
    description: 'Newest first, offset paging. Filters combine with AND; list filters match any of their values.',
    access: 'read',
    query: AlarmsQuerySchema,
    responses: { 200: { description: 'A page of alarms.', schema: AlarmPageSchema } },
  },
  transition('ack'),
  transition('clear'),
];
