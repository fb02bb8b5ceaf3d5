import type { MqttClient } from 'mqtt';

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Ends the client (DISCONNECT unless forced, so the broker discards the will); forces it after 1 s. */
export async function endClient(client: MqttClient, force: boolean): Promise<void> {
  client.on('error', () => {});
  await withTimeout(client.endAsync(force), 1_000).catch(() => client.endAsync(true).catch(() => undefined));
}
