import type { MigrationObserver } from '../../migration/MigrationObserver.js';
import type { MigrationOutcome, MigrationSample } from '../../migration/MigrationRecord.js';
import { describeMigration, statusLine, type MigrationState } from './progressLine.js';

/** What `hil run` shows while tests run; every output line of the run goes through print(). */
export interface RunProgress extends MigrationObserver {
  print(line: string): void;
  testStarted(title: string): void;
  testEnded(): void;
  close(): void;
}

export interface TerminalOutput {
  write(text: string): void;
  readonly columns: number;
}

/**
 * On a TTY: output lines scroll as usual and one status line below them is redrawn in place
 * (carriage return + erase line) with the test, the migration's phase and a RAM bar.
 */
export class TerminalProgress implements RunProgress {
  private test: string | null = null;
  private migration: MigrationState | null = null;
  private isStatusShown = false;

  constructor(private readonly output: TerminalOutput, private readonly isColour: boolean) {}

  print(line: string): void {
    this.clear();
    this.output.write(`${line}\n`);
    this.draw();
  }

  testStarted(title: string): void {
    this.test = title;
    this.migration = null;
    this.draw();
  }

  testEnded(): void {
    this.test = null;
    this.migration = null;
    this.clear();
  }

  migrationStarted(id: string, direction: string): void {
    this.migration = { id, direction, sample: null };
    this.draw();
  }

  migrationSample(id: string, sample: MigrationSample): void {
    if (this.migration?.id !== id) return;
    this.migration = { ...this.migration, sample };
    this.draw();
  }

  migrationEnded(id: string): void {
    if (this.migration?.id === id) this.migration = null;
    this.draw();
  }

  close(): void {
    this.clear();
  }

  private clear(): void {
    if (this.isStatusShown) this.output.write('\r\u001b[2K');
    this.isStatusShown = false;
  }

  private draw(): void {
    if (this.test === null) return;
    this.output.write(`\r\u001b[2K${statusLine({ test: this.test, migration: this.migration, columns: this.output.columns, isColour: this.isColour })}`);
    this.isStatusShown = true;
  }
}

/**
 * Not a TTY (CI logs): plain lines, no escapes. A line when a test starts (so a hung test is
 * named in the log) and one per migration phase change, not one per 100 ms sample.
 */
export class PlainProgress implements RunProgress {
  private lastStatus = new Map<string, string>();
  private directions = new Map<string, string>();

  constructor(private readonly out: (line: string) => void) {}

  print(line: string): void {
    this.out(line);
  }

  testStarted(title: string): void {
    this.out(`  … ${title}`);
  }

  testEnded(): void {
    this.lastStatus.clear();
  }

  migrationStarted(id: string, direction: string): void {
    this.directions.set(id, direction);
  }

  migrationSample(id: string, sample: MigrationSample): void {
    if (this.lastStatus.get(id) === sample.status) return;
    this.lastStatus.set(id, sample.status);
    this.out(`      ${describeMigration({ id, direction: this.directions.get(id) ?? '', sample })}`);
  }

  migrationEnded(id: string, outcome: MigrationOutcome | null): void {
    this.out(`      ${id} ${this.directions.get(id) ?? ''} ended: ${outcome ?? 'not started'}`);
  }

  close(): void {}
}
