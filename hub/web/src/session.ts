// Where the API token lives: sessionStorage (this tab, gone when it closes) by default;
// localStorage only when the user ticks "Keep me signed in on this device".

const KEY = 'roadwatch.token';

function storage(kind: 'session' | 'local'): Storage | null {
  try {
    return kind === 'session' ? window.sessionStorage : window.localStorage;
  } catch {
    return null; // storage disabled: the token lives in memory only
  }
}

let memory: string | null = null;

export function savedToken(): string | null {
  return storage('session')?.getItem(KEY) ?? storage('local')?.getItem(KEY) ?? memory;
}

export function saveToken(token: string, remember: boolean): void {
  clearToken();
  memory = token;
  (remember ? storage('local') : storage('session'))?.setItem(KEY, token);
}

export function clearToken(): void {
  memory = null;
  storage('session')?.removeItem(KEY);
  storage('local')?.removeItem(KEY);
}
