import net from 'node:net';

/** A TCP proxy on 127.0.0.1 whose open connections a test can cut, as a network failure would. */
export interface CuttableProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection (both sides), without a close handshake. */
  cutAll(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`host:port`). */
export async function startCuttableProxy(targetPort: number): Promise<CuttableProxy> {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    cutAll() {
      for (const socket of open) socket.destroy();
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
