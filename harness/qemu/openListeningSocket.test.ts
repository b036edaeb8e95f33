import { expect } from 'chai';
import { Duplex } from 'node:stream';
import { rejectionOf } from '../../test/support/rejectionOf.js';
import { SshError } from '../ssh/SshError.js';
import { isConnectRefused, openListeningSocket } from './openListeningSocket.js';

const refusedThroughSsh = () => new SshError('SSH_FORWARD', 'SSH stream-local forward to /v/vm.qmp on host-a failed ((SSH) Channel open failure: open failed)');

describe('openListeningSocket', () => {
  it('counts sshd\'s refused stream-local forward and a local ECONNREFUSED as a refused connect, nothing else', () => {
    expect(isConnectRefused(refusedThroughSsh())).to.equal(true);
    expect(isConnectRefused(Object.assign(new Error('connect ECONNREFUSED /v/vm.qmp'), { code: 'ECONNREFUSED' }))).to.equal(true);
    expect(isConnectRefused(new SshError('SSH_DISCONNECTED', 'SSH connection to host-a dropped'))).to.equal(false);
    expect(isConnectRefused(Object.assign(new Error('connect ENOENT /v/vm.qmp'), { code: 'ENOENT' }))).to.equal(false);
  });

  it('gives up at once when QEMU is gone: a refusal from a dead QEMU is not worth waiting on', async () => {
    let opens = 0;
    const error = await rejectionOf(openListeningSocket({ openUnixSocket: async () => { opens++; throw refusedThroughSsh(); } }, '/v/vm.qmp', async () => false, 60_000));
    expect(error.message).to.include('Channel open failure');
    expect(opens).to.equal(1);
  });

  it('passes any other error on at once', async () => {
    const error = await rejectionOf(openListeningSocket({ openUnixSocket: async () => { throw new SshError('SSH_DISCONNECTED', 'dropped'); } }, '/v/vm.qmp', async () => true, 60_000));
    expect((error as SshError).code).to.equal('SSH_DISCONNECTED');
  });

  it('ends with the last refusal when QEMU never listens before the deadline', async () => {
    const error = await rejectionOf(openListeningSocket({ openUnixSocket: async () => { throw refusedThroughSsh(); } }, '/v/vm.qmp', async () => true, 300));
    expect((error as SshError).code).to.equal('SSH_FORWARD');
  });

  it('returns the socket once a connect is accepted', async () => {
    const socket = new Duplex({ read() {}, write(_c, _e, done) { done(); } });
    let opens = 0;
    const opened = await openListeningSocket({ openUnixSocket: async () => { if (opens++ < 2) throw refusedThroughSsh(); return socket; } }, '/v/vm.qmp', async () => true, 60_000);
    expect(opened).to.equal(socket);
    expect(opens).to.equal(3);
  });
});
