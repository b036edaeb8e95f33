/** What the migration needs of a VM's QMP connection; the QMP client provides it. */
export interface QmpEventMessage {
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** QEMU's host wall-clock timestamp, ms. */
  readonly timestampMs: number;
  /** Controller clock when received, ms. */
  readonly receivedAtMs: number;
}

export interface QmpPeer {
  execute<T = unknown>(command: string, args?: Readonly<Record<string, unknown>>, options?: { readonly timeoutMs?: number }): Promise<T>;
  /** Every event from now on; returns the unsubscribe function. */
  onEvent(listener: (event: QmpEventMessage) => void): () => void;
}
