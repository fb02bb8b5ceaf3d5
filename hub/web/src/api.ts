// The hub's REST API from the page: the token in Authorization: Bearer, one error type that
// says what went wrong in words a fleet manager can act on.

/** An answer that was not 2xx (or no answer at all: status 0). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The hub's own message (names the cause and the fix). */
    readonly hubMessage: string,
    /** For 403 insufficient_scope: the scope the request needed. */
    readonly neededScope: string | null = null,
    /** For 429: seconds to wait. */
    readonly retryAfterS: number | null = null,
  ) {
    super(hubMessage);
    this.name = 'ApiProblem';
  }

  /** A sentence for the page: what happened and what to do. */
  explain(what = 'This'): string {
    switch (this.code) {
      case 'network':
        return `Cannot reach the hub (${this.hubMessage}). Check the vehicle's or depot's network; the page keeps trying.`;
      case 'unauthorized':
        return `The hub did not accept this token (${this.hubMessage}). Sign in again with a valid token: an operator issues one with roadwatch-hub tokens create.`;
      case 'insufficient_scope':
        return `Not allowed: ${what.toLowerCase()} needs a token with scope ${this.neededScope ?? 'higher than yours'} (the hub says: ${this.hubMessage}). Ask an operator for one: roadwatch-hub tokens create --name NAME --scope ${this.neededScope ?? 'ack'}.`;
      case 'forbidden_address':
        return `This device's network address may not use the hub (${this.hubMessage}). An operator can add it to ALLOWED_IPS.`;
      case 'rate_limited':
        return `Too many requests with this token; the page waits ${this.retryAfterS ?? 60} s and tries again.`;
      case 'conflict':
        return this.hubMessage;
      default:
        return `${what} failed: ${this.hubMessage} (HTTP ${this.status}).`;
    }
  }
}

export type Query = Record<string, string | number | boolean | readonly string[] | null | undefined>;

/** `?a=1&class=D40,D20`: lists comma-joined; null, undefined and empty lists left out. */
export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(name, value.join(','));
    } else params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export class Api {
  constructor(
    private readonly token: string,
    private readonly base = '',
    private readonly fetchImpl: typeof fetch = (...args) => window.fetch(...args),
  ) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', `${path}${queryString(query)}`);
  }

  post<T>(path: string): Promise<T> {
    return this.request<T>('POST', path);
  }

  private async request<T>(method: string, path: string): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, { method, headers: { Authorization: `Bearer ${this.token}`, Accept: 'application/json, application/geo+json' }, cache: 'no-store' });
    } catch (error) {
      throw new ApiProblem(0, 'network', error instanceof Error ? error.message : String(error));
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: a proxy's error page */
    }
    if (res.ok) return body as T;
    const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
    const challenge = res.headers.get('WWW-Authenticate') ?? '';
    const scope = /scope="([^"]+)"/.exec(challenge)?.[1] ?? null;
    const retry = Number(res.headers.get('Retry-After'));
    throw new ApiProblem(
      res.status,
      error?.code ?? (res.status === 401 ? 'unauthorized' : `http_${res.status}`),
      error?.message ?? (text.slice(0, 200) || res.statusText || `HTTP ${res.status}`),
      scope,
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
}
