/** `hil` exit codes: scripts and CI key on them. */
export const ExitCode = {
  ok: 0,
  /** The product misbehaved: a test FAILED, or `report --check` found a regression. */
  productFailure: 1,
  /** The lab failed: unreachable host, preflight not ready, bad lab file. Not a product verdict. */
  labFailure: 2,
  usage: 64,
} as const;
