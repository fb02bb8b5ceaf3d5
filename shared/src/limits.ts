/** Largest MQTT payload the hub accepts on a device topic; agents keep batches below it. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Most events one batch may carry. */
export const MAX_EVENTS_PER_BATCH = 10_000;
