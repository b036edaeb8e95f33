/**
 * Cutting and restoring the network link between the two hosts of a pair: a lab-level ability
 * (failure suite, brief §7 D), not a host fact. Only a lab that owns its fabric can offer it: the
 * virtual lab's switch namespace can; a lab of real hosts behind a real switch cannot.
 *
 * Declared with the hosts rather than the session because the labs that implement it sit below the
 * session in the layering.
 */
export interface LinkControl {
  /** What is cut, for messages and reports: "veth hil-host-b in namespace hil-sw". */
  describe(host: string): string;
  /** Takes the host's link to the other hosts down. */
  cut(host: string): Promise<void>;
  /** Brings it back; safe to call when it is already up. */
  restore(host: string): Promise<void>;
  /** Whether the host's link is up now. */
  isUp(host: string): Promise<boolean>;
}
