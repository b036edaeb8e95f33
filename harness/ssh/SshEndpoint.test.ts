import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec } from '../config/types.js';
import { SshConfigFile } from './SshConfigFile.js';
import { resolveEndpoint, type EndpointContext } from './SshEndpoint.js';

function spec(overrides: Partial<HostSpec> = {}): HostSpec {
  return {
    name: 'a',
    address: '10.0.0.11',
    port: 22,
    user: 'root',
    agent: false,
    trustOnFirstUse: false,
    knownHosts: '/lab/known_hosts',
    workDir: '/var/lib/hil',
    migrationAddress: '10.0.0.11',
    qemu: 'default',
    nics: [],
    allowLocalDevices: false,
    ...overrides,
  };
}

function caught(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, but none was thrown');
}

const CONFIG = SshConfigFile.parse(
  [
    'Host lab-a',
    '  HostName 192.0.2.10',
    '  Port 2201',
    '  User admin',
    '  IdentityFile ~/.ssh/id_%h_%r',
    '  IdentityFile %d/.ssh/second',
    '  ProxyJump gw1,ops@gw2:2222',
    '',
    'Host gw1',
    '  HostName 192.0.2.1',
    '  User jumper',
    '',
    'Host direct-*',
    '  ProxyJump none',
    '  port 2202',
    '',
    'Host loop-x',
    '  ProxyJump loop-y',
    'Host loop-y',
    '  ProxyJump loop-x',
    '',
    'Host odd',
    '  IdentityFile ~/.ssh/id_%C',
    '',
    'Host *',
    '  User everyone',
    '  IdentityFile ~/.ssh/id_default',
    '',
  ].join('\n'),
  '/home/op/.ssh/config',
);

const context: EndpointContext = { sshConfig: CONFIG, homeDir: '/home/op', defaultedFields: ['port', 'user'] };

describe('resolveEndpoint: lab.yaml, ~/.ssh/config and jump hosts', function () {
  it('uses lab.yaml alone when no Host alias matches (a bare `Host *` does not count)', function () {
    const endpoint = resolveEndpoint(spec({ identityFile: '/lab/id' }), context);
    expect(endpoint).to.include({ host: '10.0.0.11', port: 22, user: 'root', configPath: 'hosts.a', jump: undefined });
    expect(endpoint.identityFiles).to.deep.equal([{ path: '/lab/id', isOptional: false }]);
    expect(endpoint.authHint).to.equal('Check hosts.a.identityFile.');
  });

  it('honours HostName, Port, User, IdentityFile (tokens expanded) and ProxyJump for an address that is an alias', function () {
    const endpoint = resolveEndpoint(spec({ address: 'lab-a' }), context);
    expect(endpoint).to.include({ host: '192.0.2.10', port: 2201, user: 'admin' });
    expect(endpoint.identityFiles.map((file) => file.path)).to.deep.equal([
      '/home/op/.ssh/id_192.0.2.10_admin',
      '/home/op/.ssh/second',
      '/home/op/.ssh/id_default',
    ]);
    expect(endpoint.identityFiles.every((file) => file.isOptional)).to.equal(true);
    expect(endpoint.authHint).to.contain('IdentityFile for Host lab-a in /home/op/.ssh/config');
    // ProxyJump "gw1,ops@gw2:2222": gw1 first, then gw2 through it, then the target through gw2.
    expect(endpoint.jump).to.include({ host: 'gw2', port: 2222, user: 'ops' });
    expect(endpoint.jump?.jump).to.include({ host: '192.0.2.1', port: 22, user: 'jumper' });
    expect(endpoint.jump?.jump?.jump).to.equal(undefined);
  });

  it('lets explicit lab.yaml values win over the ssh config', function () {
    const endpoint = resolveEndpoint(spec({ address: 'lab-a', port: 2022, user: 'root', identityFile: '/lab/id', jump: 'user@bastion:22' }), { ...context, defaultedFields: [] });
    expect(endpoint).to.include({ host: '192.0.2.10', port: 2022, user: 'root' });
    expect(endpoint.identityFiles).to.deep.equal([{ path: '/lab/id', isOptional: false }]);
    expect(endpoint.jump).to.include({ host: 'bastion', port: 22, user: 'user', configPath: 'hosts.a.jump' });
  });

  it('with sshConfigHost, keeps an explicit address but takes the rest from the alias', function () {
    const endpoint = resolveEndpoint(spec({ sshConfigHost: 'lab-a' }), context);
    expect(endpoint).to.include({ host: '10.0.0.11', port: 2201, user: 'admin' });
  });

  it('refuses an sshConfigHost that no Host section matches', function () {
    const error = caught(() => resolveEndpoint(spec({ sshConfigHost: 'nowhere' }), context));
    expect(error.code).to.equal('SSH_CONFIG');
    expect(error.message).to.contain('nowhere').and.contain('/home/op/.ssh/config');
  });

  it('treats ProxyJump none as no jump, and matches wildcard Host patterns', function () {
    const endpoint = resolveEndpoint(spec({ address: 'direct-7', identityFile: '/lab/id' }), context);
    expect(endpoint).to.include({ host: 'direct-7', port: 2202, jump: undefined });
  });

  it('resolves `jump: <lab host>` through the callback, with that host\'s own settings', function () {
    const bastion = spec({ name: 'bastion', address: '10.0.0.1', user: 'hop', identityFile: '/lab/hop_id', hostKey: 'SHA256:' + 'x'.repeat(43) });
    const endpoint = resolveEndpoint(spec({ identityFile: '/lab/id', jump: 'bastion' }), { resolveHost: (name) => (name === 'bastion' ? bastion : undefined) });
    expect(endpoint.jump).to.include({ host: '10.0.0.1', user: 'hop', configPath: 'hosts.bastion', hostKey: bastion.hostKey });
    expect(endpoint.jump?.identityFiles).to.deep.equal([{ path: '/lab/hop_id', isOptional: false }]);
  });

  it('gives a user@host:port jump the target\'s credentials and trust, but not its pinned key', function () {
    const endpoint = resolveEndpoint(spec({ identityFile: '/lab/id', hostKey: 'ssh-ed25519 AAAA', trustOnFirstUse: true, jump: '[2001:db8::1]:2222' }), {});
    expect(endpoint.jump).to.include({ host: '2001:db8::1', port: 2222, user: 'root', knownHosts: '/lab/known_hosts', trustOnFirstUse: true, hostKey: undefined });
    expect(endpoint.jump?.identityFiles).to.deep.equal([{ path: '/lab/id', isOptional: false }]);
  });

  it('reports a jump loop instead of recursing forever', function () {
    const hosts: Record<string, HostSpec> = { a: spec({ name: 'a', jump: 'b' }), b: spec({ name: 'b', jump: 'a' }) };
    const labLoop = caught(() => resolveEndpoint(hosts['a']!, { resolveHost: (name) => hosts[name] }));
    expect(labLoop.code).to.equal('SSH_CONFIG');
    expect(labLoop.message).to.contain('a -> b -> a');
    expect(caught(() => resolveEndpoint(spec({ address: 'loop-x', identityFile: '/lab/id' }), context)).message).to.contain('loop');
  });

  it('refuses tokens it does not expand and a jump it cannot parse', function () {
    expect(caught(() => resolveEndpoint(spec({ address: 'odd' }), context)).message).to.contain('%C');
    expect(caught(() => resolveEndpoint(spec({ identityFile: '/lab/id', jump: 'a@b@c' }), {})).code).to.equal('SSH_CONFIG');
  });

  it('needs an agent socket for agent: true', function () {
    const error = caught(() => resolveEndpoint(spec({ agent: true }), {}));
    expect(error.code).to.equal('SSH_AUTH');
    expect(resolveEndpoint(spec({ agent: true }), { agentSocket: '/run/agent.sock' }).agentSocket).to.equal('/run/agent.sock');
  });
});

describe('SshConfigFile', function () {
  it('reports Port out of range with the file and alias', function () {
    const broken = SshConfigFile.parse('Host x\n  Port 99999\n', '/cfg');
    const error = caught(() => broken.lookup('x'));
    expect(error.message).to.contain('/cfg').and.contain('Host x').and.contain('99999');
  });

  it('never runs Match exec', function () {
    const marker = join(tmpdir(), `hil-ssh-config-exec-${process.pid}`);
    const config = SshConfigFile.parse(`Match exec "touch ${marker}"\n  User executed\n`, '/cfg');
    expect(config.lookup('anything').user).to.equal(undefined);
    expect(existsSync(marker)).to.equal(false);
  });

  it('reads a missing file as an empty config', async function () {
    const config = await SshConfigFile.read('/nonexistent/hil/ssh_config');
    expect(config.lookup('x')).to.deep.include({ isAliasMatched: false, identityFiles: [] });
  });
});
