import type { MigrationOutcome, MigrationSample } from './MigrationRecord.js';

/** Who watches migrations as they go: the terminal progress of `hil run`. Never affects them. */
export interface MigrationObserver {
  migrationStarted(id: string, direction: string): void;
  /** Each query-migrate sample of the source, as taken (10 Hz). */
  migrationSample(id: string, sample: MigrationSample): void;
  migrationEnded(id: string, outcome: MigrationOutcome | null): void;
}
