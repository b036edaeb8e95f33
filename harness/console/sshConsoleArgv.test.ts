import { expect } from 'chai';
import type { HostSpec } from '../config/types.js';
import { sshConsoleArgv } from './sshConsoleArgv.js';

const host = { name: 'host-a', address: '10.232.0.11', port: 22, user: 'root', identityFile: '/k/id', knownHosts: '/k/known_hosts' } as HostSpec;

describe('sshConsoleArgv: the serial console through the ssh client', () => {
  it('turns the escape character off, checks host keys, makes the remote pty raw and says so, then joins it to the socket with socat', () => {
    const argv = sshConsoleArgv(host, '/var/lib/vfio-hil/vm/hil-x-src.serial', () => undefined);
    expect(argv.slice(0, 4)).to.deep.equal(['ssh', '-tt', '-e', 'none']);
    expect(argv).to.include.members(['StrictHostKeyChecking=yes', 'UserKnownHostsFile=/k/known_hosts', 'BatchMode=yes']);
    expect(argv.slice(-2)).to.deep.equal(['root@10.232.0.11', "stty raw -echo && printf '%s\\n' __HIL_CONSOLE_RAW__ && exec socat -,raw,echo=0 UNIX-CONNECT:/var/lib/vfio-hil/vm/hil-x-src.serial"]);
  });

  it('refuses a host without known_hosts: the ssh client cannot use a pinned key', () => {
    expect(() => sshConsoleArgv({ ...host, knownHosts: undefined } as unknown as HostSpec, '/s', () => undefined)).to.throw('needs hosts.host-a.knownHosts');
  });
});
