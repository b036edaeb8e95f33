/** What stands in for a secret in text that leaves the harness (messages, logs, reports). */
export const REDACTED = '[redacted]';

/**
 * `text` with every occurrence of each secret replaced by [redacted]. For text the harness did
 * not write itself (a library's error message, a remote command's output) that may have seen a
 * secret; the harness's own messages never put one in. Longer secrets go first, so one secret
 * inside another is not left half visible.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  const present = secrets.filter((secret): secret is string => secret !== undefined && secret !== '');
  let out = text;
  for (const secret of [...new Set(present)].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out;
}
