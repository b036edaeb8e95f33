import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KnownHosts, knownHostsName } from './KnownHosts.js';
import {
  hostKeyAlgorithmsPreferring,
  hostKeyFingerprint,
  matchesPin,
  parsePinnedHostKey,
  parsePublicKeyLine,
  publicKeyLine,
  type HostKey,
} from './hostKey.js';

const execFileAsync = promisify(execFile);

describe('KnownHosts and host keys (with keys made by ssh-keygen)', function () {
  let dir: string;
  let key: HostKey;
  let keyFingerprint: string;
  let other: HostKey;
  let rsa: HostKey;

  async function newKey(name: string, type: string): Promise<HostKey> {
    await execFileAsync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(dir, name)]);
    return parsePublicKeyLine(await readFile(join(dir, `${name}.pub`), 'utf8'))!;
  }

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'hil-known-hosts-'));
    [key, other, rsa] = await Promise.all([newKey('a', 'ed25519'), newKey('b', 'ed25519'), newKey('r', 'rsa')]);
    keyFingerprint = (await execFileAsync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'a.pub')])).stdout.split(/\s+/)[1]!;
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  describe('hostKey', function () {
    it('computes the fingerprint ssh-keygen -l shows', function () {
      expect(hostKeyFingerprint(key)).to.equal(keyFingerprint);
    });

    it('parses a pin as a key or a fingerprint (padding optional) and rejects anything else', function () {
      expect(matchesPin(parsePinnedHostKey(publicKeyLine(key))!, key)).to.equal(true);
      expect(matchesPin(parsePinnedHostKey(keyFingerprint)!, key)).to.equal(true);
      expect(matchesPin(parsePinnedHostKey(`${keyFingerprint}=`)!, key)).to.equal(true);
      expect(matchesPin(parsePinnedHostKey(keyFingerprint)!, other)).to.equal(false);
      expect(parsePinnedHostKey('MD5:aa:bb')).to.equal(undefined);
      expect(parsePinnedHostKey(`ssh-rsa ${key.blob.toString('base64')}`), 'type in front must match the blob').to.equal(undefined);
    });

    it('offers the algorithms of known key types first', function () {
      expect(hostKeyAlgorithmsPreferring(['ssh-rsa']).slice(0, 3)).to.deep.equal(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
      expect(hostKeyAlgorithmsPreferring([])[0]).to.equal('ssh-ed25519');
      expect(new Set(hostKeyAlgorithmsPreferring(['ssh-rsa'])).size).to.equal(hostKeyAlgorithmsPreferring(['ssh-rsa']).length);
    });
  });

  describe('lookup', function () {
    it('uses [host]:port for ports other than 22, lower-cased', function () {
      expect(knownHostsName('Lab-A', 22)).to.equal('lab-a');
      expect(knownHostsName('Lab-A', 2222)).to.equal('[lab-a]:2222');
    });

    it('matches wildcards, honours negation, and accepts when any line has the key', function () {
      const file = KnownHosts.parse(
        [
          `*.lab,!bad.lab ${publicKeyLine(other)}`,
          `host?.lab ${publicKeyLine(key)}`,
          `*.lab ${publicKeyLine(key)}`,
        ].join('\n'),
        '/kh',
      );
      expect(file.lookup('host1.lab', 22, key)).to.deep.equal({ status: 'match', line: 2 });
      expect(file.lookup('bad.lab', 22, key)).to.deep.equal({ status: 'match', line: 3 });
      expect(file.lookup('x.lab', 22, key)).to.deep.equal({ status: 'match', line: 3 });
      expect(file.lookup('x.lab', 22, other)).to.deep.equal({ status: 'match', line: 1 });
      // The negated pattern vetoes line 1 for bad.lab, so `other` is not its key.
      expect(file.lookup('bad.lab', 22, other)).to.include({ status: 'changed', line: 3 });
      expect(file.lookup('elsewhere', 22, key)).to.deep.equal({ status: 'unknown', otherTypes: [] });
    });

    it('calls a different key of the same type "changed", and other types merely "unknown"', function () {
      const file = KnownHosts.parse(`# comment\n\n[h]:2222 ${publicKeyLine(other)}\n[h]:2222 ${publicKeyLine(rsa)}\n`, '/kh');
      const changed = file.lookup('h', 2222, key);
      expect(changed).to.include({ status: 'changed', line: 3 });
      const onlyRsa = KnownHosts.parse(`[h]:2222 ${publicKeyLine(rsa)}\n`, '/kh');
      expect(onlyRsa.lookup('h', 2222, key)).to.deep.equal({ status: 'unknown', otherTypes: [{ type: 'ssh-rsa', line: 1 }] });
      expect(onlyRsa.knownKeyTypes('h', 2222)).to.deep.equal(['ssh-rsa']);
    });

    it('matches hashed entries written by ssh-keygen -H', async function () {
      const file = join(dir, 'hashed');
      await writeFile(file, `[h.lab]:2222 ${publicKeyLine(key)}\nplain.lab ${publicKeyLine(other)}\n`);
      await execFileAsync('ssh-keygen', ['-H', '-f', file]);
      const text = await readFile(file, 'utf8');
      expect(text).to.not.contain('h.lab');
      const hashed = await KnownHosts.read(file);
      expect(hashed.lookup('h.lab', 2222, key)).to.deep.equal({ status: 'match', line: 1 });
      expect(hashed.lookup('h.lab', 22, key).status).to.equal('unknown');
      expect(hashed.lookup('plain.lab', 22, key)).to.include({ status: 'changed', line: 2 });
    });

    it('treats @revoked as never acceptable and ignores @cert-authority', function () {
      const file = KnownHosts.parse(`h ${publicKeyLine(key)}\n@revoked * ${publicKeyLine(key)}\n@cert-authority h ${publicKeyLine(other)}\n@unknown-marker h ${publicKeyLine(other)}\n`, '/kh');
      expect(file.lookup('h', 22, key)).to.deep.equal({ status: 'revoked', line: 2 });
      expect(file.lookup('h', 22, other).status).to.equal('changed');
    });

    it('skips damaged lines', function () {
      const file = KnownHosts.parse(`h ssh-ed25519 !!!notbase64\nh ssh-rsa ${key.blob.toString('base64')}\nh\n`, '/kh');
      expect(file.entries).to.have.length(0);
    });
  });

  describe('append', function () {
    it('creates the file 0600 (and its folder), and keeps lines apart in a file without a final newline', async function () {
      const file = join(dir, 'new', 'known_hosts');
      await KnownHosts.append(file, '127.0.0.1', 2222, key);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      await writeFile(file, `${await readFile(file, 'utf8')}# no newline at the end`);
      await KnownHosts.append(file, 'h', 22, other);
      const lines = (await readFile(file, 'utf8')).split('\n');
      expect(lines).to.deep.equal([`[127.0.0.1]:2222 ${publicKeyLine(key)}`, '# no newline at the end', `h ${publicKeyLine(other)}`, '']);
      expect((await KnownHosts.read(file)).lookup('127.0.0.1', 2222, key).status).to.equal('match');
    });

    it('reads a missing file as empty', async function () {
      expect((await KnownHosts.read(join(dir, 'missing'))).entries).to.deep.equal([]);
    });
  });
});
