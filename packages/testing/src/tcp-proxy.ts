import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a service (PostgreSQL, Redis) that a test can cut
 * and restore on the same port: an outage of its own, without touching the
 * service other tests share.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly listenHost = '127.0.0.1',
  ) {}

  /** Starts listening (again, on the same port once it has one); does nothing while it listens. */
  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      const pair = [client, upstream];
      for (const socket of pair) {
        this.sockets.add(socket);
        // One side gone (a client killed with SIGKILL resets its socket) ends the other, as without the
        // proxy: else the service would keep the session, and whatever locks it holds, for ever.
        socket.on('close', () => {
          this.sockets.delete(socket);
          for (const other of pair) other.destroy();
        });
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  /** Drops every connection and refuses new ones until start() is called again. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise((resolve) => server.close(resolve)) : Promise.resolve();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** A URL like `url` whose host and port are the proxy's. */
  urlFor(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = this.listenHost;
    proxied.port = String(this.port);
    return proxied.toString();
  }
}
