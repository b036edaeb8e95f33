/**
 * An idle 256 MiB guest sends ~95 MiB in pre-copy: at 4 MiB/s that is ~24 s of migration, a
 * window wide enough for a fault injected from outside the run (test/faults) to land in it.
 */
export const SLOW_MAX_BANDWIDTH_BYTES_PER_SEC = 4 * 1024 * 1024;
