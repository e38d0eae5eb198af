import { errorFromResponse, StelloApiError } from './errors';

/** What the client needs to reach a server. */
export interface HttpClientOptions {
  /** The server's origin (and optional path prefix), e.g. `https://stello.example.com`. */
  baseUrl: string;
  /** The API key, sent as `X-API-Key`. */
  apiKey: string;
  /** A `fetch` to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
}

/** One HTTP request of the client. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path after the base URL; ids in it are already encoded. */
  path: string;
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON when defined. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** A decoded JSON answer and its headers. */
export interface HttpResult<TData> {
  data: TData;
  headers: Headers;
}

/** Encodes one path segment (an id). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/**
 * The client's HTTP layer: `fetch` with the key, JSON in and out, errors as {@link StelloApiError}.
 * An aborted request rejects with the signal's reason, as `fetch` does.
 */
export class HttpClient {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    // Bound: some runtimes refuse a `fetch` called with another `this`.
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The absolute URL of `path` with `query` (undefined values are left out). */
  url(path: string, query?: HttpRequest['query']): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  /** Sends the request; resolves with a 2xx response, else rejects with the answer's error. */
  async send(request: HttpRequest): Promise<Response> {
    const headers: Record<string, string> = { 'X-API-Key': this.apiKey, ...request.headers };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await this.#fetch(this.url(request.path, request.query), {
        method: request.method,
        headers,
        ...(request.body !== undefined && { body: JSON.stringify(request.body) }),
        ...(request.signal && { signal: request.signal }),
      });
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      throw new StelloApiError(
        'NETWORK_ERROR',
        `${request.method} ${request.path} failed: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  /** Sends the request and decodes its JSON answer (`null` for an empty one, such as 204). */
  async json<TData>(request: HttpRequest): Promise<HttpResult<TData>> {
    const response = await this.send(request);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      throw new StelloApiError('NETWORK_ERROR', `${request.method} ${request.path}: the answer broke off`, {
        cause: error,
      });
    }
    if (text === '') return { data: null as TData, headers: response.headers };
    try {
      return { data: JSON.parse(text) as TData, headers: response.headers };
    } catch (error) {
      throw new StelloApiError(
        'INVALID_RESPONSE',
        `${request.method} ${request.path}: the answer is not JSON`,
        {
          status: response.status,
          cause: error,
        },
      );
    }
  }
}
