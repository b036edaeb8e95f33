import { rejectionOf } from '../../test/support/rejectionOf.js';
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostSpec } from '../config/types.js';
import { SshTransport } from './SshTransport.js';
import { TestSshd } from '../../test/support/testSshd.js';


/**
 * Two real sshds: a bastion and a target. That a connection really goes through the bastion is
 * proven by the bastion holding a connection for it, and by killing that connection taking the
 * target's session down with it.
 */
describe('SshTransport through a jump host, and ~/.ssh/config aliases (real sshds)', function () {
  let bastion: TestSshd;
  let target: TestSshd;
  let knownHosts: string;
  let bastionSpec: HostSpec;
  const resolveHost = (name: string): HostSpec | undefined => (name === 'bastion' ? bastionSpec : undefined);

  before(async function () {
    [bastion, target] = await Promise.all([TestSshd.start(), TestSshd.start()]);
    knownHosts = join(target.dir, 'known_hosts');
    await writeFile(knownHosts, `${await bastion.knownHostsLine()}\n${await target.knownHostsLine()}\n`);
    bastionSpec = bastion.hostSpec({ name: 'bastion', knownHosts });
    // A jump written as user@host:port is tried with the target's key.
    await appendFile(join(bastion.dir, 'authorized_keys'), await readFile(`${target.clientKeyFile}.pub`));
  });

  afterEach(async function () {
    await Promise.all([bastion.dropConnections(), target.dropConnections()]);
  });

  after(async function () {
    await Promise.all([bastion?.stop(), target?.stop()]);
    for (const sshd of [bastion, target]) {
      expect(await sshd.leftoverPids(), 'sshd processes left behind').to.deep.equal([]);
      expect(existsSync(sshd.dir), 'sshd temp folder left behind').to.equal(false);
    }
  });

  it('connects to the target through a jump host named in the lab, and drops with it', async function () {
    const transport = new SshTransport(target.hostSpec({ knownHosts, jump: 'bastion' }), { resolveHost });
    await transport.open();
    try {
      expect((await transport.run('echo via bastion')).stdout).to.equal('via bastion\n');
      expect(transport.where).to.equal(`${target.hostSpec().user}@127.0.0.1:${target.port}`);
      expect(await bastion.connectionPids()).to.have.length(1);
      const dropped = new Promise<string>((resolve) => transport.onDisconnect((error) => resolve(error.code)));
      await bastion.dropConnections();
      expect(await dropped).to.equal('SSH_DISCONNECTED');
      // Reconnecting goes through the bastion again.
      expect((await transport.run('echo again', { idempotent: true })).stdout).to.equal('again\n');
      expect(await bastion.connectionPids()).to.have.length(1);
    } finally {
      await transport.close();
    }
  });

  it('takes a jump written as user@host:port', async function () {
    const jump = `${target.hostSpec().user}@127.0.0.1:${bastion.port}`;
    const transport = new SshTransport(target.hostSpec({ knownHosts, jump }));
    await transport.open();
    try {
      expect((await transport.run('echo ok')).stdout).to.equal('ok\n');
      expect(await bastion.connectionPids()).to.have.length(1);
    } finally {
      await transport.close();
    }
  });

  it('checks the jump host\'s key too, and says which hop failed', async function () {
    const onlyTarget = join(target.dir, 'known_hosts.target-only');
    await writeFile(onlyTarget, `${await target.knownHostsLine()}\n`);
    bastionSpec = bastion.hostSpec({ name: 'bastion', knownHosts: onlyTarget });
    try {
      const error = await rejectionOf(new SshTransport(target.hostSpec({ knownHosts, jump: 'bastion' }), { resolveHost }).open());
      expect(error.code).to.equal('SSH_HOSTKEY_UNKNOWN');
      expect(error.message).to.contain(`127.0.0.1:${bastion.port}`).and.contain('hosts.bastion');
    } finally {
      bastionSpec = bastion.hostSpec({ name: 'bastion', knownHosts });
    }
  });

  it('says when the jump host cannot reach the target', async function () {
    const error = await rejectionOf(new SshTransport(target.hostSpec({ knownHosts, jump: 'bastion', port: 1 }), { resolveHost }).open());
    expect(error.code).to.equal('SSH_CONNECT');
    expect(error.message).to.contain(`127.0.0.1:${bastion.port}`).and.contain('jump host').and.contain('127.0.0.1:1');
  });

  it('follows a ~/.ssh/config alias: HostName, Port, User, IdentityFile and ProxyJump', async function () {
    const user = target.hostSpec().user;
    const sshConfigFile = join(target.dir, 'ssh_config');
    await writeFile(sshConfigFile, [
      'Host lab-target',
      '  HostName 127.0.0.1',
      `  Port ${target.port}`,
      `  User ${user}`,
      `  IdentityFile ${target.clientKeyFile}`,
      '  ProxyJump lab-bastion',
      '',
      'Host lab-bastion',
      '  HostName 127.0.0.1',
      `  Port ${bastion.port}`,
      '',
      'Host *',
      '  IdentityFile ~/.ssh/hil-test-does-not-exist',
      '',
    ].join('\n'));
    const spec = target.hostSpec({ name: 'cfg', address: 'lab-target', port: 22, user: 'nobody-explicit', identityFile: undefined, knownHosts });
    const transport = new SshTransport(spec, { sshConfigFile, homeDir: target.dir, defaultedFields: ['port', 'user'] });
    await transport.open();
    try {
      expect(transport.where).to.equal(`${user}@127.0.0.1:${target.port}`);
      expect((await transport.run('echo aliased')).stdout).to.equal('aliased\n');
      expect(await bastion.connectionPids()).to.have.length(1);
    } finally {
      await transport.close();
    }
  });
});
