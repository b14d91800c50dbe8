/**
 * A TCP forwarder between a process under test and a server (here: a worker process and Temporal), so a
 * test can drop the link on cue: `cut()` resets every connection open through it, as a network failure
 * does (gRPC calls in flight, long polls included, fail at the transport), and keeps listening, so the
 * client reconnects through it and carries on.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly connections = new Set<{ client: Socket; upstream: Socket }>();
  private readonly server: Server;

  private constructor(upstreamHost: string, upstreamPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(upstreamPort, upstreamHost);
      const pair = { client, upstream };
      this.connections.add(pair);
      const drop = () => {
        this.connections.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      for (const socket of [client, upstream]) {
        socket.on('error', drop);
        socket.on('close', drop);
      }
      client.pipe(upstream).pipe(client);
    });
  }

  /** Forwards to `upstream` ("host:port") from 127.0.0.1 on a port the OS picks (see `address`). */
  static async start(upstream: string): Promise<TcpProxy> {
    const colon = upstream.lastIndexOf(':');
    const host = upstream.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(upstream.slice(colon + 1));
    if (colon < 1 || !Number.isInteger(port)) throw new Error(`not a host:port address: ${upstream}`);
    const proxy = new TcpProxy(host, port);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** The address clients connect to instead of the upstream's. */
  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resets (TCP RST) both ends of every connection open now and returns how many there were. */
  cut(): number {
    const open = [...this.connections];
    this.connections.clear();
    for (const { client, upstream } of open) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    return open.length;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
