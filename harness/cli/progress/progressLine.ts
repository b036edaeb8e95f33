import type { MigrationSample } from '../../migration/MigrationRecord.js';

export interface MigrationState {
  readonly id: string;
  readonly direction: string;
  readonly sample: MigrationSample | null;
}

const MIB = 1048576;
const ANSI = { reset: '\u001b[0m', dim: '\u001b[2m', cyan: '\u001b[36m', green: '\u001b[32m' } as const;

/**
 * How far the RAM copy got: transferred / (transferred + remaining). Remaining grows again when
 * the guest dirties pages, so this is the current pass's share, not a promise of the end.
 */
export function ramFraction(sample: MigrationSample | null): number | null {
  if (sample === null || sample.ramTransferredBytes === undefined || sample.ramRemainingBytes === undefined) return null;
  const whole = sample.ramTransferredBytes + sample.ramRemainingBytes;
  return whole === 0 ? null : sample.ramTransferredBytes / whole;
}

export function bar(fraction: number, widthChars: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * widthChars);
  return `${'█'.repeat(filled)}${'░'.repeat(widthChars - filled)}`;
}

/** "m1 host-a→host-b active 30.1/256.8 MiB" and the like, without a bar (plain CI lines). */
export function describeMigration(state: MigrationState): string {
  const s = state.sample;
  const ram = s?.ramTransferredBytes !== undefined && s.ramRemainingBytes !== undefined
    ? ` RAM ${(s.ramTransferredBytes / MIB).toFixed(1)} MiB sent, ${(s.ramRemainingBytes / MIB).toFixed(1)} MiB remaining`
    : '';
  return `${state.id} ${state.direction} ${s?.status ?? 'starting'}${ram}`;
}

/**
 * The one status line of a TTY run: the test, the migration phase and RAM transferred/remaining
 * as a bar, cut to the terminal's width (a wrapped status line cannot be redrawn in place).
 */
export function statusLine(options: { readonly test: string | null; readonly migration: MigrationState | null; readonly columns: number; readonly isColour: boolean }): string {
  const paint = (code: string, text: string) => (options.isColour ? `${code}${text}${ANSI.reset}` : text);
  const columns = Math.max(20, options.columns);
  const m = options.migration;
  const fraction = m === null ? null : ramFraction(m.sample);
  let right = '';
  let rightWidth = 0;
  if (m !== null) {
    const s = m.sample;
    const figures = s?.ramTransferredBytes !== undefined && s.ramRemainingBytes !== undefined
      ? ` ${(s.ramTransferredBytes / MIB).toFixed(0)}/${((s.ramTransferredBytes + s.ramRemainingBytes) / MIB).toFixed(0)} MiB` : '';
    const head = ` ${m.id} ${s?.status ?? 'starting'} `;
    const barWidth = fraction === null ? 0 : Math.max(0, Math.min(20, columns - head.length - figures.length - 20));
    right = `${paint(ANSI.cyan, head)}${barWidth > 0 && fraction !== null ? paint(ANSI.green, bar(fraction, barWidth)) : ''}${figures}`;
    rightWidth = head.length + barWidth + figures.length;
  }
  const room = columns - 1 - rightWidth - 2;
  const test = options.test ?? '';
  const left = test.length > room ? `${test.slice(0, Math.max(0, room - 1))}…` : test;
  return `${paint(ANSI.dim, `▸ ${left}`)}${right}`;
}
