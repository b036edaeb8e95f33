import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { readEnvironment } from '../../harness/config/environment.js';
import type { HostSpec, LabConfig } from '../../harness/config/types.js';
import { LocalRunner, runChecked } from '../../harness/LocalRunner.js';
import { sh } from '../../harness/shell.js';
import type { SshTransport } from '../../harness/ssh/SshTransport.js';
import { TeardownStack } from '../../harness/teardown.js';
import { labYamlConfig } from '../../harness/virtual-lab/labConfigFixture.js';
import { VirtualLab } from '../../harness/virtual-lab/VirtualLab.js';
import { HostConnections } from '../../harness/host/HostConnections.js';

/**
 * For lab tests of host changes (journal, lease, provisioning): the project's lab.yaml lab, up
 * (brought up if it was not, and then brought down again by close()), SSH to its hosts, and
 * per-test scratch folders under a host's workDir so tests never touch the journal or lease a
 * real run uses.
 */
export class LabHosts {
  private readonly teardown = new TeardownStack('lab hosts for a test');

  private constructor(
    readonly config: LabConfig,
    readonly connections: HostConnections,
  ) {}

  static async open(log: (line: string) => void = () => undefined): Promise<LabHosts> {
    const config = labYamlConfig();
    const environment = readEnvironment();
    const lab = new VirtualLab(config, new LocalRunner(), log, { isRoot: environment.isRoot });
    const hosts = new LabHosts(config, new HostConnections(config, environment));
    if (!(await lab.status()).isUp) {
      await lab.up();
      hosts.teardown.push('bring the lab down again (this test brought it up)', async () => {
        await lab.down();
      });
    }
    hosts.teardown.push('close SSH connections', () => hosts.connections.closeAll());
    return hosts;
  }

  host(name: string): HostSpec {
    const host = this.config.hosts[name];
    if (host === undefined) throw new Error(`no host ${name} in ${this.config.file}`);
    return host;
  }

  transport(name: string): Promise<SshTransport> {
    return this.connections.open(this.host(name));
  }

  /** A new private folder under the host's workDir, removed by close(). */
  async scratchDir(name: string, label: string): Promise<string> {
    const dir = posix.join(this.host(name).workDir, `test-${label}-${process.pid}-${randomBytes(3).toString('hex')}`);
    const transport = await this.transport(name);
    await runChecked(transport, sh`mkdir -p -m 0700 ${dir}`);
    this.teardown.push(`remove ${dir} on ${name}`, async () => {
      await runChecked(await this.transport(name), sh`rm -rf -- ${dir}`);
    });
    return dir;
  }

  /**
   * A copy of the lab file whose host `name` has `workDir` (for CLI tests that must not touch
   * the real workDir); every other relative path made absolute, since the copy lives elsewhere.
   */
  labFileWithWorkDir(name: string, workDir: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'hil-lab-copy-'));
    this.teardown.push(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const labDir = posix.dirname(this.config.file);
    let text = readFileSync(this.config.file, 'utf8').replace(/(?<![\w/])\.lab(?=[/\s])/g, join(labDir, '.lab'));
    const workDirLine = new RegExp(`^(\\s*workDir:\\s*)\\S*${name}\\s*$`, 'm');
    if (!workDirLine.test(text)) throw new Error(`${this.config.file} has no workDir line ending in ${name}: update labHosts.ts`);
    text = text.replace(workDirLine, `$1${workDir}`).replace(/^(\s*reportsDir:\s*)\S+/m, `$1${join(dir, 'reports')}`);
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, text);
    return file;
  }

  async close(): Promise<void> {
    await this.teardown.run();
  }
}
