import { aggregateOperations } from '../aggregates/spec.js';
import { alarmOperations } from '../alarms/spec.js';
import { detectionOperations } from '../detections/spec.js';
import { deviceOperations } from '../devices/spec.js';
import { meOperations } from '../me/spec.js';
import { hubOperations } from './hub-operations.js';
import type { ApiOperation } from './operation.js';

/** The API description itself: public, no token. */
const docOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tag: 'docs',
    summary: 'This OpenAPI 3.1 document',
    access: 'public',
    responses: { 200: { description: 'The document (application/json).' } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    tag: 'docs',
    summary: 'The API reference as an HTML page',
    description: 'Rendered on the hub from this document; self-contained (no scripts, no external assets).',
    access: 'public',
    responses: { 200: { description: 'HTML.', contentType: 'text/html' } },
  },
];

/** Every operation the hub serves, in the order the docs show them. */
export const API_OPERATIONS: readonly ApiOperation[] = [
  ...alarmOperations,
  ...detectionOperations,
  ...aggregateOperations,
  ...deviceOperations,
  ...meOperations,
  ...hubOperations,
  ...docOperations,
];
