/**
 * A small valid physical lab for tests, one statement per line so that a test can replace or
 * insert a line by number and know exactly where a problem must be reported.
 */
export const MINIMAL_LAB_LINES: readonly string[] = [
  /*  1 */ 'lab:',
  /*  2 */ '  name: t',
  /*  3 */ '  kind: physical',
  /*  4 */ 'hosts:',
  /*  5 */ '  host-a:',
  /*  6 */ '    address: 10.0.0.11',
  /*  7 */ '    identityFile: id',
  /*  8 */ '    knownHosts: known_hosts',
  /*  9 */ '    workDir: /var/lib/hil',
  /* 10 */ '    nics:',
  /* 11 */ '      - name: nic0',
  /* 12 */ '        vf: { pf: "0000:3b:00.0", pfDriver: mlx5_core, numVfs: 2 }',
  /* 13 */ '  host-b:',
  /* 14 */ '    address: 10.0.0.12',
  /* 15 */ '    identityFile: id',
  /* 16 */ '    knownHosts: known_hosts',
  /* 17 */ '    workDir: /var/lib/hil',
  /* 18 */ '    nics: []',
  /* 19 */ 'pairs:',
  /* 20 */ '  - name: p0',
  /* 21 */ '    source: host-a',
  /* 22 */ '    destination: host-b',
  /* 23 */ 'qemu:',
  /* 24 */ '  default:',
  /* 25 */ '    binary: /usr/bin/qemu-system-x86_64',
  /* 26 */ 'guests:',
  /* 27 */ '  default:',
  /* 28 */ '    kernel: vmlinuz',
  /* 29 */ '    memoryMiB: 256',
  /* 30 */ '    address: 10.0.0.100',
];

export interface LabEdit {
  /** 1-based line to replace (with `text`, which may hold several lines) or delete (text null). */
  readonly line: number;
  readonly text: string | null;
}

/** The minimal lab with lines replaced, deleted or (with "\n" in the text) expanded. */
export function minimalLab(...edits: LabEdit[]): string {
  const lines: (string | null)[] = [...MINIMAL_LAB_LINES];
  for (const { line, text } of edits) lines[line - 1] = text;
  return `${lines.filter((line) => line !== null).join('\n')}\n`;
}

export function replaceLine(line: number, text: string): LabEdit {
  return { line, text };
}

export function deleteLine(line: number): LabEdit {
  return { line, text: null };
}

/** Keeps line `line` and adds `text` after it. */
export function insertAfter(line: number, text: string): LabEdit {
  return { line, text: `${MINIMAL_LAB_LINES[line - 1] ?? ''}\n${text}` };
}
