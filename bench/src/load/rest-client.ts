import { Agent, request } from 'undici';

/** A REST answer: status and parsed JSON body (`null` for an empty body). */
export interface RestResponse<TBody> {
  status: number;
  body: TBody;
  headers: Record<string, string | string[] | undefined>;
}

/** A failed operation: a non-expected status, with the server's error body. */
export class BenchRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    label: string,
  ) {
    super(`${label}: status ${status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

// A turn answers within milliseconds on loopback; anything near this is a hung server.
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The bench's HTTP client of one server: keep-alive connections (undici's Agent, one socket per
 * concurrent client), the API key on every request, JSON in and out.
 */
export class RestClient {
  readonly #agent: Agent;
  readonly #baseUrl: string;

  constructor(baseUrl: string, connections: number) {
    this.#baseUrl = baseUrl;
    this.#agent = new Agent({
      connections,
      keepAliveTimeout: 60_000,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
  }

  /** Sends a request and parses the answer; the caller checks the status. */
  async send<TBody = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    apiKey: string,
    json?: unknown,
  ): Promise<RestResponse<TBody>> {
    const headers: Record<string, string> = { 'x-api-key': apiKey };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const response = await request(this.#baseUrl + path, {
      method,
      headers,
      body: json === undefined ? null : JSON.stringify(json),
      dispatcher: this.#agent,
    });
    const text = await response.body.text();
    return {
      status: response.statusCode,
      body: (text === '' ? null : JSON.parse(text)) as TBody,
      headers: response.headers,
    };
  }

  /** Sends a request and returns its body, or throws `BenchRequestError` unless the status is `expected`. */
  async expect<TBody = unknown>(
    expected: number,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    apiKey: string,
    json?: unknown,
  ): Promise<RestResponse<TBody>> {
    const response = await this.send<TBody>(method, path, apiKey, json);
    if (response.status !== expected)
      throw new BenchRequestError(response.status, response.body, `${method} ${path}`);
    return response;
  }

  /** Closes every connection. */
  close(): Promise<void> {
    return this.#agent.close();
  }
}
