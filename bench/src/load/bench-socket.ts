import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** A frame from the server. */
// biome-ignore lint/suspicious/noExplicitAny: the bench reads a few fields of the server's frames
export type Frame = { type: string } & Record<string, any>;

/** Timings of one streamed turn, in milliseconds from the moment the message was sent. */
export interface StreamTiming {
  /** Until the first `stream.delta`. */
  firstDeltaMs: number;
  /** Until `stream.end`. */
  totalMs: number;
}

const FRAME_TIMEOUT_MS = 30_000;

/** A `ws` client of the bench: one socket bound to a space, frames awaited in order. */
export class BenchSocket {
  readonly #socket: WebSocket;
  readonly #frames: Frame[] = [];
  #waiter: ((frame: Frame | Error) => void) | null = null;
  #closedError: Error | null = null;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => this.#push(JSON.parse(data.toString()) as Frame));
    socket.on('close', (code) => this.#fail(new Error(`socket closed (${code})`)));
    socket.on('error', (error) => this.#fail(error));
  }

  /** Opens `ws://…/spaces/:spaceId/ws` with the key in the `X-API-Key` header. */
  static connect(wsUrl: string, spaceId: string, apiKey: string): Promise<BenchSocket> {
    const socket = new WebSocket(`${wsUrl}/spaces/${spaceId}/ws`, { headers: { 'X-API-Key': apiKey } });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new BenchSocket(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => {
        reject(new Error(`upgrade refused with ${response.statusCode}`));
        socket.terminate();
      });
    });
  }

  /** Enters a session; throws on an `error` frame. */
  async enter(sessionId: string): Promise<void> {
    this.send({ type: 'session.enter', sessionId });
    await this.#expect('session.entered');
  }

  /** Runs one streamed turn and times its first delta and its end. */
  async streamTurn(input: string): Promise<StreamTiming> {
    const startedAt = performance.now();
    this.send({ type: 'session.stream', input });
    let firstDeltaMs = Number.NaN;
    for (;;) {
      const frame = await this.next();
      if (frame.type === 'stream.delta') {
        if (Number.isNaN(firstDeltaMs)) firstDeltaMs = performance.now() - startedAt;
      } else if (frame.type === 'stream.end') {
        return { firstDeltaMs, totalMs: performance.now() - startedAt };
      } else if (frame.type === 'error') {
        throw new Error(`stream failed: ${frame.code} ${frame.message}`);
      }
    }
  }

  /** Runs one non-streamed turn (`session.message`). */
  async messageTurn(input: string): Promise<void> {
    this.send({ type: 'session.message', input });
    await this.#expect('turn.complete');
  }

  /** Sends a JSON message. */
  send(message: unknown): void {
    this.#socket.send(JSON.stringify(message));
  }

  /** The next frame, in arrival order. */
  next(): Promise<Frame> {
    const frame = this.#frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.#closedError) return Promise.reject(this.#closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error(`no frame within ${FRAME_TIMEOUT_MS} ms`));
      }, FRAME_TIMEOUT_MS);
      this.#waiter = (value) => {
        clearTimeout(timer);
        this.#waiter = null;
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
    });
  }

  /** Closes the socket and waits for the close handshake. */
  close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.close();
    });
  }

  async #expect(type: string): Promise<Frame> {
    const frame = await this.next();
    if (frame.type === 'error') throw new Error(`${type} failed: ${frame.code} ${frame.message}`);
    if (frame.type !== type) throw new Error(`expected ${type}, got ${frame.type}`);
    return frame;
  }

  #push(frame: Frame): void {
    if (this.#waiter) this.#waiter(frame);
    else this.#frames.push(frame);
  }

  #fail(error: Error): void {
    this.#closedError ??= error;
    this.#waiter?.(error);
  }
}
