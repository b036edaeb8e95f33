import { Command, CommanderError } from 'commander';
import { causeChain, HarnessError } from '../errors.js';
import { ExitCode } from './ExitCode.js';
import { addHostCommands } from './hostCommands.js';
import { addLabCommands, addPreflightCommand } from './labCommands.js';
import { addQemuCommands } from './qemuCommands.js';
import { addReportCommand } from './reportCommand.js';
import { addRunCommand } from './runCommand.js';
import type { CliIo } from './cliSupport.js';

/** Entry point of `hil`; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const capture: CliIo = { out: io.out, err: io.err, setExitCode: (code) => { exitCode = code; } };
  const program = new Command('hil')
    .description('Hardware-in-the-loop tests of QEMU live migration with VFIO devices')
    .option('--lab <file>', 'the lab inventory', 'lab.yaml')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  addLabCommands(program, capture);
  addPreflightCommand(program, capture);
  addHostCommands(program, capture);
  addRunCommand(program, capture);
  addQemuCommands(program, capture);
  addReportCommand(program, capture);
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    io.err(`hil: ${causeChain(error).join('\n  caused by: ')}`);
    return error instanceof HarnessError ? ExitCode.labFailure : ExitCode.labFailure;
  }
}

function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    setExitCode: (code) => { process.exitCode = code; },
  };
}
