import type { IncomingMessage } from 'node:http';

/** Most bytes of a refused body read and discarded before the 413 is sent. */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
/** Longest time spent discarding a refused body before the 413 is sent. */
export const DRAIN_MAX_MS = 10_000;

/**
 * Reads and discards the rest of a request body the server refuses, up to a bound, so that the
 * client, still uploading, gets to read the 413 instead of a reset connection (a socket closed
 * with unread data resets). Past the bound the answer goes out anyway and the connection closes.
 * Does nothing outside Node's HTTP server (`incoming` absent) or when the body was read already.
 */
export async function drainRequest(incoming: IncomingMessage | undefined): Promise<void> {
  if (!incoming || incoming.readableEnded || incoming.destroyed) return;
  await new Promise<void>((resolve) => {
    let read = 0;
    const done = () => {
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', done);
      incoming.off('error', done);
      incoming.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > DRAIN_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    incoming.on('data', onData);
    incoming.once('end', done);
    incoming.once('error', done);
    incoming.once('close', done);
    // The request may be paused behind a web stream that nobody reads any more.
    incoming.resume();
  });
}
