import type { LLMChunk } from '../llm/llm';
import { throwIfAborted, toAdapterError } from './_errors';

/** A provider SDK's client together with the SDK's own test for its abort error class. */
export interface LoadedSdk<Client> {
  client: Client;
  isAbort: (error: unknown) => boolean;
}

/** Loads a provider SDK (once) and hands out its client. */
export type SdkLoader<Client> = () => Promise<LoadedSdk<Client>>;

/** The connection options both adapters take and both SDKs understand. */
export interface SdkConnectionOptions {
  baseURL?: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
  maxRetries?: number;
}

/** The SDK client options for `options`; unset ones are left out so the SDK's defaults apply. */
export function sdkClientOptions(options: SdkConnectionOptions): {
  baseURL?: string;
  fetch?: typeof globalThis.fetch;
  timeout?: number;
  maxRetries?: number;
} {
  return {
    ...(options.baseURL !== undefined && { baseURL: options.baseURL }),
    ...(options.fetch !== undefined && { fetch: options.fetch }),
    ...(options.timeoutMs !== undefined && { timeout: options.timeoutMs }),
    ...(options.maxRetries !== undefined && { maxRetries: options.maxRetries }),
  };
}

/**
 * Wraps `load` so that it runs on first use only. The SDKs are imported lazily because importing
 * one costs a quarter of a second that offline users never need.
 */
export function lazySdk<Client>(load: SdkLoader<Client>): SdkLoader<Client> {
  let loaded: Promise<LoadedSdk<Client>> | undefined;
  return () => (loaded ??= load());
}

/**
 * Runs one SDK request of an adapter call: rejects at once when `signal` has already fired, and
 * maps whatever loading the SDK or the request throws with `toAdapterError`.
 */
export async function sdkRequest<Client, T>(
  sdk: SdkLoader<Client>,
  provider: string,
  signal: AbortSignal | undefined,
  request: (client: Client) => Promise<T>,
): Promise<T> {
  throwIfAborted(signal);
  let isAbort: LoadedSdk<Client>['isAbort'] | undefined;
  try {
    const loaded = await sdk();
    isAbort = loaded.isAbort;
    return await request(loaded.client);
  } catch (error) {
    throw toAdapterError(error, provider, signal, isAbort?.(error));
  }
}

/**
 * Streams one SDK request of an adapter call. `chunks` yields the mapped chunks and returns the
 * trailing one (the usage), which is sent last and only when the stream was not aborted. Errors are
 * mapped as in {@link sdkRequest}.
 */
export async function* sdkStream<Client>(
  sdk: SdkLoader<Client>,
  provider: string,
  signal: AbortSignal | undefined,
  chunks: (client: Client) => AsyncGenerator<LLMChunk, LLMChunk | undefined>,
): AsyncGenerator<LLMChunk> {
  throwIfAborted(signal);
  let isAbort: LoadedSdk<Client>['isAbort'] | undefined;
  let trailing: LLMChunk | undefined;
  try {
    const loaded = await sdk();
    isAbort = loaded.isAbort;
    trailing = yield* chunks(loaded.client);
  } catch (error) {
    throw toAdapterError(error, provider, signal, isAbort?.(error));
  }
  // The SDKs end the iteration quietly when their request is aborted; the contract is a rejection.
  throwIfAborted(signal);
  if (trailing) yield trailing;
}
