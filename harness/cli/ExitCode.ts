/** `hil` exit codes: scripts and CI key on them. The README's Commands section has the table. */
export const ExitCode = {
  ok: 0,
  /** The product misbehaved: a test FAILED or was UNEXPECTED (and no expectation file names it a known failure), or `report --check` found a regression. */
  productFailure: 1,
  /** The lab failed: unreachable host, preflight not ready, bad lab or expectation file, a lab ERROR (INCONCLUSIVE included), too many FLAKY tests, an interrupted run. Not a product verdict. */
  labFailure: 2,
  /** Nothing was judged: every test selected was skipped (or none was selected), with no failure. */
  notJudged: 3,
  /** `--expect`: the run differs from its expectation file (another verdict, a skip, a missing or unnamed test, a known failure that passed). */
  expectationMismatch: 4,
  usage: 64,
} as const;
