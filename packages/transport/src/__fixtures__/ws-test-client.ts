import WebSocket from 'ws';

/** A frame received from the server, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the server's frames
export type Frame = { type: string } & Record<string, any>;

/** How a WebSocket handshake was refused. */
export interface RefusedUpgrade {
  status: number;
  body: string;
}

/** A real `ws` client that queues the frames it receives. */
export interface WsTestClient {
  socket: WebSocket;
  /** The subprotocol the server selected (`''` for none). */
  protocol: string;
  /** Sends a JSON message (or a raw string / buffer as is). */
  send(message: unknown): void;
  /** The next frame (optionally the next one of `type`, skipping others), within `timeoutMs`. */
  next(type?: string, timeoutMs?: number): Promise<Frame>;
  /** Every frame received so far and not yet taken. */
  readonly buffered: Frame[];
  /** Closes and waits for the close event. */
  close(): Promise<void>;
  /** Resolves with the close code when the socket closes. */
  closed: Promise<number>;
}

/** Connection options: headers of the upgrade request and offered subprotocols. */
export interface ConnectOptions {
  headers?: Record<string, string>;
  protocols?: string[];
}

/** Opens a WebSocket; rejects with `RefusedUpgrade` when the server answers the upgrade with HTTP. */
export function connectWs(url: string, options: ConnectOptions = {}): Promise<WsTestClient> {
  const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
  const frames: Frame[] = [];
  const waiters: { type: string | undefined; resolve: (frame: Frame) => void }[] = [];
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    const index = waiters.findIndex((waiter) => waiter.type === undefined || waiter.type === frame.type);
    if (index >= 0) {
      const [waiter] = waiters.splice(index, 1);
      waiter?.resolve(frame);
    } else {
      frames.push(frame);
    }
  });

  const client: WsTestClient = {
    socket,
    get protocol() {
      return socket.protocol;
    },
    send(message) {
      socket.send(
        typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message),
      );
    },
    next(type, timeoutMs = 10_000) {
      const index = frames.findIndex((frame) => type === undefined || frame.type === type);
      if (index >= 0) return Promise.resolve(frames.splice(index, 1)[0] as Frame);
      return new Promise<Frame>((resolve, reject) => {
        const waiter = {
          type,
          resolve: (frame: Frame) => {
            clearTimeout(timer);
            resolve(frame);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no ${type ?? 'frame'} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    buffered: frames,
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
    closed,
  };

  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        const refused: RefusedUpgrade = { status: response.statusCode ?? 0, body };
        reject(refused);
      });
      response.on('error', () => reject({ status: response.statusCode ?? 0, body } satisfies RefusedUpgrade));
    });
    socket.once('error', (error) => reject(error));
  });
}

/** Expects `connectWs` to be refused and returns the HTTP status and body. */
export async function refusedUpgrade(url: string, options: ConnectOptions = {}): Promise<RefusedUpgrade> {
  try {
    const client = await connectWs(url, options);
    await client.close();
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'status' in error) return error as RefusedUpgrade;
    throw error;
  }
  throw new Error('the upgrade was accepted');
}
