import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../harness/projectRoot.js';
import { findUnquotedCommands, type UnquotedCommand } from './support/findUnquotedCommands.js';

const root = projectRoot();

function compilerOptions(): ts.CompilerOptions {
  const configFile = join(root, 'tsconfig.json');
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, root).options;
}

/** The production sources: harness/, suites/ and bench/, without tests and test helpers. */
function isProductionFile(fileName: string): boolean {
  const path = relative(root, fileName);
  return /^(harness|suites|bench)\//.test(path) && !/\.test\.ts$/.test(path) && !path.endsWith('.d.ts');
}

function shown(findings: readonly UnquotedCommand[]): string[] {
  return findings.map((finding) => `${relative(root, finding.file)}:${finding.line} ${finding.code}: ${finding.reason}`);
}

describe('shell commands in the sources are built with sh`` (a typed lint)', function () {
  this.timeout(120_000);

  it('finds no command that interpolates or concatenates a value without sh``, and no raw() of an unproven value', () => {
    const { fileNames } = ts.parseJsonConfigFileContent(ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, root);
    const program = ts.createProgram(fileNames.filter(isProductionFile), compilerOptions());
    const { findings, sinkCount } = findUnquotedCommands(program, isProductionFile);
    expect(shown(findings)).to.deep.equal([]);
    // The lint must have seen the commands it vouches for (run, runChecked, spawn, raw across the harness).
    expect(sinkCount).to.be.at.least(40);
  });

  it('catches each unsafe way of building a command, and passes the safe ones (checked on a fixture)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-lint-'));
    try {
      const fixture = join(dir, 'fixture.ts');
      const shell = relative(dir, join(root, 'harness', 'shell.js'));
      const runner = relative(dir, join(root, 'harness', 'runner.js'));
      const localRunner = relative(dir, join(root, 'harness', 'LocalRunner.js'));
      writeFileSync(fixture, [
        `import { raw, sh } from '${shell}';`,
        `import type { CommandRunner } from '${runner}';`,
        `import { runChecked } from '${localRunner}';`,
        "const MODULES = ['vfio', 'kvm'] as const;",
        'function quoted(path: string): string { return sh`cat ${path}`; }',
        'function unquoted(path: string): string { return `cat ${path}`; }',
        'export async function f(runner: CommandRunner, dir: string, pid: number, signal: "TERM" | "KILL", given: string) {',
        '  await runner.run(`rm -rf ${dir}`);', // 8: unsafe
        "  await runner.run('ls ' + dir);", // 9: unsafe
        '  await runChecked(runner, unquoted(dir));', // 10: unsafe, found at line 6, in the function's return
        '  const script = `mkdir ${dir}`;',
        '  await runner.run(script);', // 12: unsafe, through a const (reported at the template)
        '  await runner.run(pid > 0 ? `kill ${pid}` : `echo ${dir}`);', // 13: unsafe in one branch
        '  await runner.run(sh`ls ${raw(dir)}`);', // 14: raw of a value
        '  await runner.run(sh`rm -rf ${dir}`);',
        '  await runner.run(`kill -${signal} ${pid}`);',
        '  await runner.run(`for m in ${MODULES.join(" ")}; do :; done`);',
        '  await runChecked(runner, quoted(dir));',
        '  await runner.run(`${quoted(dir)} && ${sh`rm ${dir}`}`);',
        '  await runner.run(sh`x ${raw(signal)} ${raw(quoted(dir))} ${raw("2>&1")}`);',
        '  await runner.run(given);', // a parameter: judged where f is called
        '}',
        // A runner that wraps the command it is given: the command is judged where run() is called.
        'export const wrapped = (inner: CommandRunner): CommandRunner => ({ where: inner.where, run: (command) => inner.run(`set -e; ${command}`) });',
      ].join('\n'));
      const program = ts.createProgram([fixture], compilerOptions());
      const lines = findUnquotedCommands(program, (fileName) => fileName === fixture).findings.map((finding) => `${finding.line} ${finding.code}`);
      // Each finding points at the value that gets in unquoted.
      expect(lines).to.deep.equal(['6 path', '8 dir', '9 dir', '11 dir', '13 dir', '14 dir']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
