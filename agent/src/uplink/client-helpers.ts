import type { MqttClient } from 'mqtt';
import { raceTimer } from '../util/race-timer.js';

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return raceTimer(promise, ms, () => {
    throw new Error(`timed out after ${ms} ms`);
  });
}

/** Ends the client (DISCONNECT unless forced, so the broker discards the will); forces it after 1 s. */
export async function endClient(client: MqttClient, force: boolean): Promise<void> {
  client.on('error', () => {});
  await withTimeout(client.endAsync(force), 1_000).catch(() => client.endAsync(true).catch(() => undefined));
}
