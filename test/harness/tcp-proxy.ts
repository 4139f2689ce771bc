import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from './free-port.js';

/**
 * A loopback TCP forwarder that a test can cut, to put one process on the far side of a network
 * partition while everything else still reaches the server.
 *
 * `cut()` black-holes rather than refuses: open connections stay open but carry nothing, and new
 * ones are accepted and never answered. That is what a dropped route or a dead load balancer looks
 * like, and the harder case for a client: only its own timeouts notice. `restore()` ends the
 * connections that lived through the cut (their streams lost bytes) and forwards again.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private isCut = false;
  private closing: Promise<void> | undefined;
  private answered = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, await listenOnLoopback(server));
    server.on('connection', (client) => proxy.forward(client, target));
    return proxy;
  }

  /**
   * Bytes relayed from the target back to clients so far: grows once a client behind the proxy gets
   * answers again after a restore (what a test waits for instead of a fixed pause).
   */
  get answeredBytes(): number {
    return this.answered;
  }

  /** Stops forwarding; see the class comment. */
  cut(): void {
    this.isCut = true;
  }

  /** Forwards again, after ending every connection that lived through the cut. */
  restore(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.isCut = false;
  }

  /** Ends every connection and stops listening. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
      this.server.close(() => resolve());
    });
    return this.closing;
  }

  private forward(client: Socket, target: { host: string; port: number }): void {
    this.track(client);
    if (this.isCut) return; // accepted, never answered
    const upstream = createConnection(target);
    this.track(upstream);
    const relay = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (!this.isCut) to.write(chunk);
      });
    relay(client, upstream);
    relay(upstream, client);
    upstream.on('data', (chunk: Buffer) => {
      if (!this.isCut) this.answered += chunk.length;
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined); // a reset peer is part of the game here
    socket.on('close', () => this.sockets.delete(socket));
  }
}
