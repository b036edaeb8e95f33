import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner } from '../../harness/LocalRunner.js';
import type { CommandResult, CommandRunner, RunOptions } from '../../harness/runner.js';
import { quote } from '../../harness/shell.js';

const RECORD_END = '\x1e';

/**
 * Commands replaced by stubs that record their argv and change nothing, for code that would
 * otherwise reconfigure the machine (ip netns, sysctl). Scripts run with PATH holding only the
 * stubs, so a command that is not stubbed fails instead of running for real. A stub answers `[]`
 * when given -j, which is what `ip -j ... show/list` prints on an empty machine.
 */
export class StubCommands {
  readonly dir: string;
  private readonly log: string;

  constructor(names: readonly string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'hil-stubs-'));
    this.log = join(this.dir, 'calls.log');
    for (const name of names) {
      const file = join(this.dir, name);
      // printf is a shell builtin: the stub itself needs nothing from PATH.
      writeFileSync(file, [
        '#!/bin/sh',
        `{ printf '%s\\0' ${quote(name)} "$@"; printf '${RECORD_END}'; } >> ${quote(this.log)}`,
        'for a in "$@"; do [ "$a" = -j ] && echo "[]"; done',
        'exit 0',
        '',
      ].join('\n'));
      chmodSync(file, 0o755);
    }
  }

  /** Runs scripts on this machine with only the stubs on PATH. */
  runner(): CommandRunner {
    const local = new LocalRunner();
    const path = quote(this.dir);
    return {
      where: `controller (stubs in ${this.dir})`,
      run: (command: string, options?: RunOptions): Promise<CommandResult> => local.run(`PATH=${path}; export PATH\n${command}`, options),
    };
  }

  /** Every stub call so far, as argv with the command name first. */
  calls(): string[][] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8').split(RECORD_END).filter((record) => record !== '').map((record) => record.slice(0, -1).split('\0'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
