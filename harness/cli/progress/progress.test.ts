import { expect } from 'chai';
import type { Environment } from '../../config/environment.js';
import type { MigrationSample } from '../../migration/MigrationRecord.js';
import { createRunProgress } from './createRunProgress.js';
import { bar, ramFraction, statusLine } from './progressLine.js';
import { PlainProgress, TerminalProgress } from './RunProgress.js';

const MIB = 1048576;
const sample = (status: string, sentMiB: number, remainingMiB: number): MigrationSample => ({ atMs: 0, status, ramTransferredBytes: sentMiB * MIB, ramRemainingBytes: remainingMiB * MIB });
const ESC = '\u001b[';

function environment(isTty: boolean, isColorless: boolean): Environment {
  return { homeDir: '/root', sshConfigFile: '/root/.ssh/config', isRoot: true, isTty, isColorless, isCi: !isTty } as Environment;
}

describe('hil run progress', () => {
  it('the RAM bar is transferred / (transferred + remaining)', () => {
    expect(ramFraction(sample('active', 64, 192))).to.equal(0.25);
    expect(ramFraction({ atMs: 0, status: 'setup' })).to.equal(null);
    expect(bar(0.25, 8)).to.equal('██░░░░░░');
    expect(bar(1.7, 4)).to.equal('████');
  });

  it('the status line names the test, the phase and the figures, within the terminal width, coloured only when asked', () => {
    const line = statusLine({ test: 'virtio-net-pci, no vIOMMU: 4 migrations', migration: { id: 'm2', direction: 'host-b→host-a', sample: sample('active', 128, 128) }, columns: 100, isColour: false });
    expect(line).to.equal(`▸ virtio-net-pci, no vIOMMU: 4 migrations m2 active ${'█'.repeat(10)}${'░'.repeat(10)} 128/256 MiB`);
    expect(line).to.not.include(ESC);
    const narrow = statusLine({ test: 'a very long test title that cannot fit in a narrow terminal at all', migration: { id: 'm1', direction: 'a→b', sample: sample('device', 250, 6) }, columns: 60, isColour: false });
    expect([...narrow].length).to.be.at.most(59);
    expect(narrow).to.include('…');
    expect(statusLine({ test: 't', migration: null, columns: 80, isColour: true })).to.include(`${ESC}2m`);
  });

  it('on a TTY: output lines scroll, one status line is redrawn in place and cleared at the end of a test', () => {
    const written: string[] = [];
    const progress = new TerminalProgress({ write: (text) => written.push(text), columns: 80 }, false);
    progress.testStarted('ping-pong');
    progress.migrationStarted('m1', 'host-a→host-b');
    progress.migrationSample('m1', sample('active', 10, 246));
    progress.print('  ok  ping-pong');
    progress.testEnded();
    expect(written[0]).to.equal(`\r${ESC}2K▸ ping-pong`);
    expect(written[2]).to.match(/^\r\u001b\[2K▸ ping-pong m1 active .*10\/256 MiB$/);
    // print(): erase the status line, write the line, draw the status again below it.
    expect(written.slice(3, 6)).to.deep.equal([`\r${ESC}2K`, '  ok  ping-pong\n', written[2]]);
    expect(written[written.length - 1]).to.equal(`\r${ESC}2K`);
    expect(written.join('')).to.not.match(/\u001b\[3\dm/);
  });

  it('not a TTY (CI): plain lines, one per test start and per phase change, no escapes', () => {
    const lines: string[] = [];
    const progress = new PlainProgress((line) => lines.push(line));
    progress.testStarted('ping-pong');
    progress.migrationStarted('m1', 'host-a→host-b');
    for (const s of [sample('setup', 0, 256), sample('active', 10, 246), sample('active', 90, 166), sample('completed', 256, 0)]) progress.migrationSample('m1', s);
    progress.migrationEnded('m1', 'completed');
    progress.print('  ok  ping-pong');
    expect(lines).to.deep.equal([
      '  … ping-pong',
      '      m1 host-a→host-b setup RAM 0.0 MiB sent, 256.0 MiB remaining',
      '      m1 host-a→host-b active RAM 10.0 MiB sent, 246.0 MiB remaining',
      '      m1 host-a→host-b completed RAM 256.0 MiB sent, 0.0 MiB remaining',
      '      m1 host-a→host-b ended: completed',
      '  ok  ping-pong',
    ]);
    expect(lines.join('')).to.not.include('\u001b');
  });

  it('createRunProgress: plain when not a TTY, colour on a TTY unless NO_COLOR', () => {
    const writes: string[] = [];
    const terminal = { write: (text: string) => writes.push(text) > 0, columns: 80 } as unknown as NodeJS.WriteStream;
    expect(createRunProgress(environment(false, true), () => undefined, terminal)).to.be.instanceOf(PlainProgress);
    const noColour = createRunProgress(environment(true, true), () => undefined, terminal);
    noColour.testStarted('t');
    const colour = createRunProgress(environment(true, false), () => undefined, terminal);
    colour.testStarted('t');
    expect(writes[0]).to.equal(`\r${ESC}2K▸ t`);
    expect(writes[1]).to.equal(`\r${ESC}2K${ESC}2m▸ t${ESC}0m`);
  });
});
