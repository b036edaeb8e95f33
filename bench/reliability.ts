/**
 * Reliability summary (issue 6): injects every fault the harness must survive on the virtual lab
 * and prints, per fault, the verdict (exit code, test outcomes, the head of what the harness
 * said), the time from the fault to the hosts being clean, and the residue found (must be none).
 * Prints only; asserts nothing. The lab must be up (`hil lab up`); runs queue behind other runs
 * on the lab through the lease (--wait 600). Every fault touches only the lab's namespaces.
 *
 *   node dist/bench/reliability.js [lab.yaml] [rounds]
 */
import { resolve } from 'node:path';
import { loadLab } from '../harness/config/loadLab.js';
import type { LabConfig } from '../harness/config/types.js';
import { errorMessage } from '../harness/errors.js';
import type { FaultVerdict } from '../test/faults/FaultVerdict.js';
import { injectControllerKill, injectSigintOnce, injectSigintTwice, injectSshDrop } from '../test/faults/inRunFaults.js';
import { injectHostKeyChanged, injectReportsUnwritable } from '../test/faults/refusalFaults.js';
import { DESTINATION_KILLED_SPEC, injectFromSuite, LINK_CUT_DEADLINE_SPEC } from '../test/faults/suiteFaults.js';

interface Fault {
  readonly name: string;
  readonly inject: (lab: LabConfig) => Promise<FaultVerdict>;
}

const FAULTS: readonly Fault[] = [
  { name: 'SSH to the source dropped mid-migration', inject: injectSshDrop },
  { name: 'destination QEMU SIGKILLed mid-migration', inject: (lab) => injectFromSuite(lab, 'destination killed', [DESTINATION_KILLED_SPEC]) },
  { name: 'link cut, left down past the deadline', inject: (lab) => injectFromSuite(lab, 'link cut', [LINK_CUT_DEADLINE_SPEC]) },
  { name: 'controller SIGKILLed mid-migration', inject: injectControllerKill },
  { name: 'SIGINT once mid-migration', inject: injectSigintOnce },
  { name: 'SIGINT twice mid-migration', inject: injectSigintTwice },
  { name: 'host key changed (hil preflight)', inject: (lab) => injectHostKeyChanged(lab, 'preflight') },
  { name: 'host key changed (hil run)', inject: (lab) => injectHostKeyChanged(lab, 'run') },
  { name: 'reports: a file where the folder goes', inject: (lab) => injectReportsUnwritable(lab, 'file-in-the-way') },
  { name: 'reports: folder under /proc', inject: (lab) => injectReportsUnwritable(lab, 'proc') },
  { name: 'reports: file system full', inject: (lab) => injectReportsUnwritable(lab, 'full') },
];

/** One row of the table; an injection that itself failed says so instead of a verdict. */
interface Row {
  readonly fault: string;
  readonly exit: string;
  readonly outcome: string;
  readonly cleanup: string;
  readonly residue: readonly string[];
  readonly message: string;
}

/** The message goes on its own line under the row: long enough for a reason and its cause. */
const MESSAGE_CHARS = 240;

function rowOf(name: string, verdict: FaultVerdict): Row {
  const message = verdict.messageHead.replace(/\s+/g, ' ');
  return {
    fault: name,
    exit: verdict.exit,
    outcome: verdict.outcomes.length === 0 ? '(no report)' : verdict.outcomes.join(','),
    cleanup: verdict.cleanupMs === null ? 'NOT CLEAN' : `${(verdict.cleanupMs / 1000).toFixed(1)} s`,
    residue: verdict.residue,
    message: message.length > MESSAGE_CHARS ? `${message.slice(0, MESSAGE_CHARS - 1)}…` : message,
  };
}

function printTable(rows: readonly Row[]): void {
  const header = ['fault', 'exit', 'outcome', 'clean-up', 'residue'];
  const cells = rows.map((r) => [r.fault, r.exit, r.outcome, r.cleanup, r.residue.length === 0 ? 'none' : `${r.residue.length} item(s)`]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]): string => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  rows.forEach((row, i) => {
    console.log(line(cells[i]!));
    console.log(`    ↳ ${row.message === '' ? '(nothing said)' : row.message}`);
  });
  for (const r of rows.filter((row) => row.residue.length > 0)) {
    console.log(`\nresidue after "${r.fault}":`);
    for (const item of r.residue) console.log(`  ${item}`);
  }
}

async function main(): Promise<void> {
  const lab = loadLab(resolve(process.argv[2] ?? 'lab.yaml'));
  const rounds = Number(process.argv[3] ?? '1');
  console.log(`Reliability summary on lab "${lab.name}" (${lab.file}), ${rounds} round(s), ${new Date().toISOString()}`);
  console.log('clean-up: from the fault to the hosts holding nothing of the run (for SIGKILL / SIGINT twice: through the next run); refusals: how long the refusal took\n');
  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const fault of FAULTS) {
      const name = rounds > 1 ? `${fault.name} #${round}` : fault.name;
      const startedAtMs = Date.now();
      try {
        rows.push(rowOf(name, await fault.inject(lab)));
      } catch (error) {
        // The injection itself broke (the lab down, a run that never reached its migration): say so, keep going.
        rows.push({ fault: name, exit: '-', outcome: 'INJECTION FAILED', cleanup: '-', residue: [], message: errorMessage(error).split('\n')[0]!.slice(0, MESSAGE_CHARS) });
      }
      process.stderr.write(`  ${name}: ${((Date.now() - startedAtMs) / 1000).toFixed(0)} s\n`);
    }
  }
  console.log('');
  printTable(rows);
}

await main();
