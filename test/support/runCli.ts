import { main } from '../../harness/cli/main.js';

/** What one in-process `hil` call printed and returned. */
export interface CliRun {
  readonly exitCode: number;
  readonly out: readonly string[];
  readonly err: readonly string[];
}

/** Runs `hil <args>` in this process, capturing everything it prints. */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  // main() takes process.argv as bin/hil.js hands it over: node, the script, then the arguments.
  const exitCode = await main(['node', 'hil', ...args], {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    // main() returns the code it would exit with; the io's copy is for the real process only.
    setExitCode: () => undefined,
  });
  return { exitCode, out, err };
}
