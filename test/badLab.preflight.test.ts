import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../harness/cli/ExitCode.js';
import type { LabPreflight } from '../harness/host/preflightLab.js';
import { TestSshd } from './support/testSshd.js';
import { BAD_LAB_DIR, expectedCode, expectedMessage, readBadLabCases, type BadLabCase } from './support/badLabCorpus.js';
import { runCli } from './support/runCli.js';
import { makeKeyPair } from './support/sshKeys.js';

/** A port on 127.0.0.1 with nothing listening: bound by the kernel's choice, then closed. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe('bad-lab corpus: the ssh-* labs load, and `hil preflight` says why the host cannot be reached', function () {
  this.timeout(60_000);
  const cases = readBadLabCases().filter((badLab) => badLab.via === 'preflight');
  let sshd: TestSshd;
  let keysDir: string;
  const labDirs: string[] = [];

  before(async () => {
    sshd = await TestSshd.start();
    keysDir = await mkdtemp(join(tmpdir(), 'hil-badlab-keys-'));
    await makeKeyPair(join(keysDir, 'id_unauthorized'));
    // Authorized, so only the missing passphrase can be what stops it.
    await makeKeyPair(join(keysDir, 'id_passphrase'), randomBytes(12).toString('hex'));
    await appendFile(join(sshd.dir, 'authorized_keys'), await readFile(join(keysDir, 'id_passphrase.pub')));
  });

  after(async () => {
    await sshd?.stop();
    for (const dir of [keysDir, ...labDirs]) if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    expect(await sshd.leftoverPids(), 'sshd processes left behind').to.deep.equal([]);
  });

  /** The case copied next to the keys it names, with __PORT__ filled in; returns the lab path. */
  async function placeCase(badLab: BadLabCase, port: number): Promise<{ file: string; dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'hil-badlab-'));
    labDirs.push(dir);
    const file = join(dir, badLab.file);
    await writeFile(file, (await readFile(join(BAD_LAB_DIR, badLab.file), 'utf8')).replaceAll('__PORT__', String(port)));
    await copyFile(sshd.clientKeyFile, join(dir, 'id_authorized'));
    await copyFile(join(keysDir, 'id_unauthorized'), join(dir, 'id_unauthorized'));
    await copyFile(join(keysDir, 'id_passphrase'), join(dir, 'id_passphrase'));
    await writeFile(join(dir, 'known_hosts'), `${await sshd.knownHostsLine()}\n`);
    await mkdir(join(dir, 'keys'));
    return { file, dir };
  }

  for (const badLab of cases) {
    it(`${badLab.file}: ${badLab.broken}`, async () => {
      const port = badLab.against === 'sshd' ? sshd.port : await closedPort();
      const { file, dir } = await placeCase(badLab, port);
      const message = expectedMessage(badLab, { file, dir, port });

      const json = await runCli(['--lab', file, 'preflight', '--json', '--host', 'host-a']);
      expect({ exitCode: json.exitCode, err: json.err }).to.deep.equal({ exitCode: ExitCode.labFailure, err: [] });
      const [host] = (JSON.parse(json.out.join('\n')) as LabPreflight).hosts;
      expect(host?.isReachable).to.equal(false);
      expect(host?.checks).to.deep.equal([{ name: 'reachable', isOk: false, detail: message }]);
      expect(host?.error?.[0]).to.equal(`[${expectedCode(badLab)}] ${message}`);

      // What a user reads in the terminal.
      const text = await runCli(['--lab', file, 'preflight', '--host', 'host-a']);
      expect(text.exitCode).to.equal(ExitCode.labFailure);
      expect(text.out.join('\n').split('\n')).to.include(`     FAIL reachable        ${message}`);
    });
  }
});
