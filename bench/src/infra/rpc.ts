import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A request from the bench to a child process. */
export interface RpcRequest {
  id: number;
  method: string;
  params?: unknown;
}

/** A child's message to the bench: an answer, or the one-time `ready` announcement. */
export type RpcMessage =
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: string }
  | { kind: 'ready'; info: unknown }
  | { kind: 'fatal'; error: string };

/** The methods a child serves. */
export type RpcHandlers = Record<string, (params: never) => unknown>;

const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

/** Options of {@link startChild}. */
export interface StartChildOptions {
  /** Extra Node flags (`--expose-gc`, `--cpu-prof`…). */
  nodeFlags?: string[];
  /** Environment added to the bench's own. */
  env?: Record<string, string>;
}

/**
 * A child process of the bench (the server under test or the fake LLM), driven over its IPC
 * channel: `call(method, params)` resolves with the child's answer.
 */
export class ChildProcessHandle<TInfo> {
  readonly #child: ChildProcess;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  readonly #exited: Promise<number | null>;
  #nextId = 1;
  /** What the child announced when it became ready. */
  readonly info: TInfo;

  private constructor(child: ChildProcess, info: TInfo, exited: Promise<number | null>) {
    this.#child = child;
    this.info = info;
    this.#exited = exited;
    child.on('message', (message: RpcMessage) => this.#onMessage(message));
    void exited.then((code) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`child exited with code ${code}`));
      this.#pending.clear();
    });
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Forks `entry` (a TypeScript file of this package) under tsx with the workspace's source
   * condition, and waits for its `ready` message.
   */
  static async start<TInfo>(
    entry: string,
    options: StartChildOptions = {},
  ): Promise<ChildProcessHandle<TInfo>> {
    const child = fork(entry, [], {
      // `--import tsx` resolves from the working directory: the bench package, which depends on tsx.
      cwd: BENCH_DIR,
      execArgv: ['--conditions=@stello-ai/source', '--import', 'tsx', ...(options.nodeFlags ?? [])],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const info = await new Promise<TInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${entry} was not ready within ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      const onMessage = (message: RpcMessage) => {
        if (message.kind === 'ready') {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(message.info as TInfo);
        } else if (message.kind === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`${entry} failed to start: ${message.error}`));
        }
      };
      child.on('message', onMessage);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${entry} exited with code ${code} before it was ready`));
      });
    });
    return new ChildProcessHandle<TInfo>(child, info, exited);
  }

  /** Calls a method of the child and resolves with its result. */
  call<TResult>(method: string, params?: unknown): Promise<TResult> {
    const id = this.#nextId++;
    return new Promise<TResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`rpc ${method} timed out after ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as TResult);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const request: RpcRequest = { id, method, params };
      this.#child.send(request);
    });
  }

  /** Asks the child to close (method `close`), then kills it if it does not exit in time. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const closing = this.call('close').catch(() => {});
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await closing;
    await this.#exited;
    clearTimeout(timer);
  }

  #onMessage(message: RpcMessage): void {
    if (message.kind !== 'result' && message.kind !== 'error') return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.kind === 'result') pending.resolve(message.result);
    else pending.reject(new Error(message.error));
  }
}

function send(message: RpcMessage): void {
  process.send?.(message);
}

/**
 * Serves `handlers` on the IPC channel of this (child) process and announces `info` as ready.
 * `close` is expected among the handlers; the process exits after answering it.
 */
export function serveRpc(handlers: RpcHandlers, info: unknown): void {
  process.on('message', (request: RpcRequest) => {
    const handler = handlers[request.method];
    if (!handler) {
      send({ kind: 'error', id: request.id, error: `unknown method ${request.method}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(request.params as never))
      .then(
        (result) => {
          send({ kind: 'result', id: request.id, result: result ?? null });
          if (request.method === 'close') process.disconnect?.();
        },
        (error: unknown) =>
          send({
            kind: 'error',
            id: request.id,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      );
  });
  // The bench died: nothing is left to serve.
  process.on('disconnect', () => process.exit(0));
  send({ kind: 'ready', info });
}

/** Reports a start-up failure of this (child) process to the bench, then exits. */
export function failStartup(error: unknown): void {
  const message: RpcMessage = {
    kind: 'fatal',
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  };
  if (!process.send) process.exit(1);
  // Exit once the message is flushed, so the bench sees why.
  process.send(message, () => process.exit(1));
}
