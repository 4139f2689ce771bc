import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listenOnLoopback } from './free-port.js';
import { TcpProxy } from './tcp-proxy.js';

let echo: Server;
const echoSockets = new Set<Socket>();
let proxy: TcpProxy;
const clients: Socket[] = [];

beforeEach(async () => {
  echo = createServer((socket) => {
    echoSockets.add(socket);
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  proxy = await TcpProxy.start({ host: '127.0.0.1', port: await listenOnLoopback(echo) });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await proxy.close();
  for (const socket of echoSockets) socket.destroy();
  echoSockets.clear();
  await new Promise((resolve) => echo.close(resolve));
});

async function connect(): Promise<Socket> {
  const socket = createConnection({ host: '127.0.0.1', port: proxy.port });
  socket.on('error', () => undefined);
  clients.push(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

/** What comes back within `ms` after writing `text`. */
async function roundTrip(socket: Socket, text: string, ms = 300): Promise<string> {
  let received = '';
  const onData = (chunk: Buffer) => (received += chunk.toString());
  socket.on('data', onData);
  socket.write(text);
  await new Promise((r) => setTimeout(r, ms));
  socket.off('data', onData);
  return received;
}

describe('TcpProxy', () => {
  it('forwards both ways, and counts the bytes that came back', async () => {
    expect(await roundTrip(await connect(), 'hello')).toBe('hello');
    expect(proxy.answeredBytes).toBe('hello'.length);
  });

  it('black-holes open and new connections while cut, without closing them', async () => {
    const open = await connect();
    proxy.cut();
    expect(await roundTrip(open, 'lost')).toBe('');
    expect(open.destroyed).toBe(false);
    const fresh = await connect(); // accepted...
    expect(await roundTrip(fresh, 'unanswered')).toBe(''); // ...and never answered
    expect(proxy.answeredBytes).toBe(0);
  });

  it('forwards again after restore, ending the connections that lived through the cut', async () => {
    const old = await connect();
    proxy.cut();
    const closed = new Promise((resolve) => old.once('close', resolve));
    proxy.restore();
    await closed;
    expect(await roundTrip(await connect(), 'back')).toBe('back');
  });

  it('close() is safe to call twice and refuses later connections', async () => {
    await proxy.close();
    await proxy.close();
    const socket = createConnection({ host: '127.0.0.1', port: proxy.port });
    clients.push(socket);
    const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});
