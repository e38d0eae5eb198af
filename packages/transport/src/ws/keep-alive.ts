import type { WebSocket } from 'ws';

/** Pings tracked sockets and terminates those that did not answer the previous ping. */
export interface KeepAlive {
  /** Starts watching a socket (it counts as alive until the next tick). */
  track(socket: WebSocket): void;
  /** Stops watching a socket. */
  untrack(socket: WebSocket): void;
  /** Stops the timer. */
  stop(): void;
}

/**
 * Starts a heartbeat: every `intervalMs`, a socket that has not answered the previous ping (with
 * a pong) is terminated, the others are pinged. The timer is unref'd so it never keeps the
 * process alive.
 */
export function startKeepAlive(intervalMs: number): KeepAlive {
  const alive = new Map<WebSocket, boolean>();
  const markAlive = function (this: WebSocket) {
    alive.set(this, true);
  };

  const timer = setInterval(() => {
    for (const [socket, answered] of alive) {
      if (!answered) {
        alive.delete(socket);
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      try {
        socket.ping();
      } catch {
        // The socket is closing; its close event untracks it.
      }
    }
  }, intervalMs);
  timer.unref();

  return {
    track(socket) {
      alive.set(socket, true);
      socket.on('pong', markAlive);
    },
    untrack(socket) {
      alive.delete(socket);
      socket.off('pong', markAlive);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
