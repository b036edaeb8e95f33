/**
 * The root of every error the harness raises. `code` is stable (tests and reports key on it);
 * `data` carries what a reader needs to act (host, command, exit code, QMP command, ...);
 * `cause` keeps the underlying error.
 */
export type ErrorData = Readonly<Record<string, unknown>>;

export class HarnessError extends Error {
  readonly code: string;
  readonly data: ErrorData;

  constructor(code: string, message: string, options: { cause?: unknown; data?: ErrorData } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.data = options.data ?? {};
  }

  /** True for failures of the lab (SSH, host not ready, preflight): never a product verdict. */
  get isInfrastructure(): boolean {
    return false;
  }
}

/** A failure of the lab rather than of the product under test (design.md §7: ERROR, not FAIL). */
export class InfrastructureError extends HarnessError {
  override get isInfrastructure(): boolean {
    return true;
  }
}

/** The chain of messages from an error down through its causes, for reports and logs. */
export function causeChain(error: unknown): string[] {
  const chain: string[] = [];
  let current: unknown = error;
  const seen = new Set<unknown>();
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof Error) {
      const code = current instanceof HarnessError ? `[${current.code}] ` : '';
      chain.push(`${code}${current.message}`);
      current = current.cause;
    } else {
      chain.push(String(current));
      break;
    }
  }
  return chain;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
