import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { QmpDisconnectedError, QmpHistoryGapError, QmpProtocolError, QmpTimeoutError } from './errors.js';
import { QmpClient } from './QmpClient.js';

/**
 * Protocol edge cases QEMU will not produce on demand, played by a scripted peer on a unix socket.
 * Real-QEMU behaviour is covered by QmpClient.test.ts.
 */
const GREETING = '{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "Fake \u00e9dition"}, "capabilities": ["oob"]}}\r\n';

interface Peer {
  readonly socket: Socket;
  /** Next line the client sent, parsed. */
  nextCommand(): Promise<{ execute: string; id: string; arguments?: unknown }>;
}

class FakeQmpServer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'hil-fakeqmp-'));
  readonly path = join(this.dir, 'qmp.sock');
  private readonly server: Server;
  private readonly accepted: Socket[] = [];
  private readonly acceptWaiters: ((socket: Socket) => void)[] = [];

  constructor() {
    this.server = createServer((socket) => {
      const waiter = this.acceptWaiters.shift();
      if (waiter !== undefined) waiter(socket);
      else this.accepted.push(socket);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  /** Connects a client socket and returns it with the server side of the connection. */
  async connectPair(): Promise<{ client: Socket; peer: Peer }> {
    const serverSide = new Promise<Socket>((resolve) => {
      const ready = this.accepted.shift();
      if (ready !== undefined) resolve(ready);
      else this.acceptWaiters.push(resolve);
    });
    const client = connect(this.path);
    const socket = await serverSide;
    return { client, peer: peerOf(socket) };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function peerOf(socket: Socket): Peer {
  let buffered = '';
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      const waiter = waiting.shift();
      if (waiter !== undefined) waiter(line);
      else lines.push(line);
    }
  });
  return {
    socket,
    nextCommand: async () => {
      const line = lines.shift() ?? (await new Promise<string>((resolve) => waiting.push(resolve)));
      return JSON.parse(line) as { execute: string; id: string };
    },
  };
}

/** Plays greeting + capabilities so the client reaches state open. */
async function openWith(peer: Peer, client: QmpClient): Promise<void> {
  peer.socket.write(GREETING);
  const opening = client.open({ timeoutMs: 2000 });
  const capabilities = await peer.nextCommand();
  expect(capabilities.execute).to.equal('qmp_capabilities');
  peer.socket.write(`{"return": {}, "id": ${JSON.stringify(capabilities.id)}}\r\n`);
  await opening;
}

describe('QmpClient against a scripted peer (protocol edge cases)', function () {
  let server: FakeQmpServer;
  let client: QmpClient;
  let peer: Peer;
  let reported: QmpProtocolError[];

  beforeEach(async function () {
    server = new FakeQmpServer();
    await server.listen();
    const pair = await server.connectPair();
    peer = pair.peer;
    reported = [];
    client = new QmpClient(pair.client, { where: 'fake peer', onProtocolError: (error) => reported.push(error) });
  });

  afterEach(async function () {
    await client.close();
    peer.socket.destroy();
    await server.close();
  });

  it('reports a garbage line as a protocol error and keeps working', async function () {
    await openWith(peer, client);
    const call = client.execute('query-status');
    const sent = await peer.nextCommand();
    peer.socket.write('this is not json\r\n');
    peer.socket.write(`{"return": {"status": "running"}, "id": "${sent.id}"}\r\n`);
    expect(await call).to.deep.equal({ status: 'running' });
    expect(reported).to.have.length(1);
    expect(reported[0]?.code).to.equal('QMP_PROTOCOL');
    expect(reported[0]?.message).to.contain('not JSON').and.to.contain('this is not json');
    expect(client.state).to.equal('open');
  });

  it('reports a reply for an unknown id, and one without an id, without failing pending calls', async function () {
    await openWith(peer, client);
    const call = client.execute('query-name');
    const sent = await peer.nextCommand();
    peer.socket.write('{"return": {}, "id": "nobody-asked"}\r\n');
    // QEMU's answer to input it cannot parse carries no id.
    peer.socket.write('{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword"}}\r\n');
    peer.socket.write(`{"return": {"name": "vm"}, "id": "${sent.id}"}\r\n`);
    expect(await call).to.deep.equal({ name: 'vm' });
    expect(reported.map((e) => e.data['problem'])).to.deep.equal(['a reply for unknown id "nobody-asked"', 'a reply without an id']);
    expect(client.protocolErrors).to.have.length(2);
  });

  it('fails open() when the first message is not a greeting, and ends up closed', async function () {
    peer.socket.write('{"return": {}}\r\n');
    let error: unknown;
    await client.open({ timeoutMs: 2000 }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(QmpProtocolError);
    expect((error as Error).message).to.contain('expected the QMP greeting');
    expect(client.state).to.equal('closed');
  });

  it('times out open() when the peer never greets, naming the greeting', async function () {
    let error: unknown;
    await client.open({ timeoutMs: 200 }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(QmpTimeoutError);
    expect((error as Error).message).to.contain('waiting for the QMP greeting');
    expect(client.state).to.equal('closed');
  });

  it('joins lines split across chunks, including a UTF-8 character cut in two', async function () {
    const bytes = Buffer.from(GREETING, 'utf8');
    // Cut inside "é" (0xc3 0xa9), then in 7-byte pieces.
    const cut = bytes.indexOf(0xc3) + 1;
    const chunks = [bytes.subarray(0, cut)];
    for (let offset = cut; offset < bytes.length; offset += 7) chunks.push(bytes.subarray(offset, offset + 7));
    const opening = client.open({ timeoutMs: 2000 });
    for (const chunk of chunks) {
      peer.socket.write(chunk);
      // Let the client read each piece on its own.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const capabilities = await peer.nextCommand();
    peer.socket.write(`{"return": {}, `);
    await new Promise((resolve) => setImmediate(resolve));
    peer.socket.write(`"id": "${capabilities.id}"}\r\n`);
    const greeting = await opening;
    expect(greeting.version.package).to.equal('Fake \u00e9dition');
    expect(reported).to.have.length(0);
  });

  it('delivers many events from one chunk, in order, to a listener and to history', async function () {
    await openWith(peer, client);
    const listener = client.listen();
    const lines = Array.from({ length: 50 }, (_, i) => `{"timestamp": {"seconds": 1700000000, "microseconds": ${i * 1000}}, "event": "MIGRATION_PASS", "data": {"pass": ${i}}}\r\n`);
    const last = client.waitForEvent('MIGRATION_PASS', { match: { pass: 49 }, timeoutMs: 2000 });
    peer.socket.write(lines.join(''));
    const lastEvent = await last;
    expect(lastEvent.timestampMs).to.equal(1_700_000_000_000 + 49);
    const received = listener.drain();
    expect(received.map((e) => e.data['pass'])).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    expect(received.map((e) => e.seq)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    expect(client.history).to.have.length(50);
  });

  it('keeps a bounded history and refuses to look before its start', async function () {
    const pair = await server.connectPair();
    const small = new QmpClient(pair.client, { where: 'small', historySize: 3 });
    try {
      await openWith(pair.peer, small);
      const cursor = small.eventCursor;
      const lines = [0, 1, 2, 3, 4].map((n) => `{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "STOP", "data": {"n": ${n}}}\r\n`);
      const lastOne = small.waitForEvent('STOP', { match: { n: 4 }, timeoutMs: 2000 });
      pair.peer.socket.write(lines.join(''));
      await lastOne;
      expect(small.history.map((e) => e.data['n'])).to.deep.equal([2, 3, 4]);
      const kept = await small.waitForEvent('STOP', { since: cursor + 2, match: { n: 2 }, timeoutMs: 100 });
      expect(kept.seq).to.equal(cursor + 2);
      let gap: unknown;
      await small.waitForEvent('STOP', { since: cursor, match: { n: 0 }, timeoutMs: 100 }).then(undefined, (e: unknown) => (gap = e));
      expect(gap).to.be.instanceOf(QmpHistoryGapError);
      expect((gap as Error).message).to.contain('history now starts at #2');
    } finally {
      await small.close();
      pair.peer.socket.destroy();
    }
  });

  it('reports a line cut off by the end of the connection, then rejects pending calls', async function () {
    await openWith(peer, client);
    const call = client.execute('query-status').catch((e: unknown) => e);
    await peer.nextCommand();
    peer.socket.end('{"return": {"stat');
    const error = await call;
    expect(error).to.be.instanceOf(QmpDisconnectedError);
    expect(reported.map((e) => e.data['problem'])).to.deep.equal(['the connection ended in the middle of a line']);
    expect(client.state).to.equal('closed');
  });
});

describe('QmpClient on a stream that fails before open()', function () {
  it('does not crash on the early error and fails open() with it', async function () {
    const stream = new Duplex({ read() {}, write(_chunk, _encoding, callback) { callback(); } });
    const client = new QmpClient(stream, { where: 'early-error peer' });
    stream.destroy(new Error('connection reset by peer'));
    await new Promise((resolve) => setImmediate(resolve));
    let error: unknown;
    await client.open({ timeoutMs: 500 }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(QmpDisconnectedError);
    expect((error as Error).message).to.contain('connection reset by peer').and.to.contain('the QMP greeting');
  });
});
