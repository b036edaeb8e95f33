import { expect } from 'chai';
import type { CommandResult, CommandRunner } from '../runner.js';
import { ensureHostPackages, HOST_PACKAGES } from './ensureHostPackages.js';

/** Answers each command with the first scripted reply whose pattern matches it; records them all. */
class ScriptedRunner implements CommandRunner {
  readonly where = 'scripted controller';
  readonly commands: string[] = [];
  constructor(private readonly replies: readonly [RegExp, Partial<CommandResult>][]) {}
  async run(command: string): Promise<CommandResult> {
    this.commands.push(command);
    const reply = this.replies.find(([pattern]) => pattern.test(command))?.[1] ?? {};
    return { exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 1, ...reply };
  }
}

const statusLines = (missing: readonly string[]): string =>
  Object.keys(HOST_PACKAGES).filter((p) => !missing.includes(p)).map((p) => `${p}\tii \n`).join('');

const SOURCES = '\x1e/etc/apt/sources.list.d/debian.sources\nTypes: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n';

describe('ensureHostPackages', () => {
  it('runs nothing but one dpkg-query when every package is installed', async () => {
    const runner = new ScriptedRunner([[/^dpkg-query/, { stdout: statusLines([]) }]]);
    const result = await ensureHostPackages(runner, () => undefined, { isRoot: true });
    expect(result.missing).to.deep.equal([]);
    expect(runner.commands).to.have.length(1);
  });

  it('tells a non-root user exactly which apt commands to run, QEMU from bookworm-backports', async () => {
    const runner = new ScriptedRunner([
      [/^dpkg-query/, { stdout: statusLines(['qemu-system-x86', 'socat']), exitCode: 1 }],
      [/os-release/, { stdout: 'bookworm' }],
      [/sources\.list/, { stdout: SOURCES }],
    ]);
    const failure = await ensureHostPackages(runner, () => undefined, { isRoot: false }).then(() => undefined, (e: unknown) => e);
    expect(failure).to.be.instanceOf(Error);
    const message = (failure as Error).message;
    expect(message).to.include('qemu-system-x86, socat');
    expect(message).to.include('/etc/apt/sources.list.d/vfio-hil-backports.sources');
    expect(message).to.include('URIs: http://mirror.example/debian');
    expect(message).to.include('apt-get update');
    expect(message).to.include('install -y --no-install-recommends -t bookworm-backports qemu-system-x86');
    expect(message).to.include('install -y --no-install-recommends socat');
    expect(runner.commands.some((c) => c.includes('install'))).to.equal(false);
  });

  it('falls back to the release QEMU when backports cannot be installed, and says so', async () => {
    let checks = 0;
    const runner = new ScriptedRunner([
      [/^dpkg-query/, { get stdout() { checks += 1; return statusLines(checks === 1 ? ['qemu-system-x86'] : []); } } as Partial<CommandResult>],
      [/os-release/, { stdout: 'bookworm' }],
      [/sources\.list/, { stdout: SOURCES + '\x1e/etc/apt/sources.list.d/bp.list\ndeb http://deb.debian.org/debian bookworm-backports main\n' }],
      [/-t bookworm-backports/, { exitCode: 100, stderr: 'E: Unable to locate package' }],
    ]);
    const lines: string[] = [];
    const result = await ensureHostPackages(runner, (line) => lines.push(line), { isRoot: true });
    expect(result.qemuFrom).to.equal('release');
    expect(lines.join('\n')).to.match(/WARNING: QEMU from bookworm-backports could not be installed.*falling back/);
    expect(runner.commands.some((c) => c.startsWith('printf'))).to.equal(false, 'backports already listed: no source written');
    expect(runner.commands.at(-2)).to.match(/apt-get install -y --no-install-recommends qemu-system-x86$/);
  });
});
