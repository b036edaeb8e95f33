import { parseGreeting, type QmpGreeting } from './QmpGreeting.js';
import { timestampToMs } from './QmpEvent.js';

/** One line from a QMP server, classified. Only shapes; what is allowed when is the client's call. */
export type QmpMessage =
  | { readonly kind: 'greeting'; readonly greeting: QmpGreeting | undefined }
  | { readonly kind: 'event'; readonly name: string; readonly data: Readonly<Record<string, unknown>>; readonly timestampMs: number }
  | { readonly kind: 'return'; readonly id: unknown; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: unknown; readonly errorClass: string; readonly desc: string }
  | { readonly kind: 'invalid'; readonly problem: string };

export function parseQmpMessage(line: string): QmpMessage {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch (error) {
    return { kind: 'invalid', problem: `not JSON (${(error as Error).message})` };
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return { kind: 'invalid', problem: 'not a JSON object' };
  const record = message as Record<string, unknown>;
  if ('QMP' in record) return { kind: 'greeting', greeting: parseGreeting(record) };
  if (typeof record['event'] === 'string') {
    const data = record['data'];
    return {
      kind: 'event',
      name: record['event'],
      data: data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {},
      timestampMs: timestampToMs(record['timestamp']),
    };
  }
  if ('error' in record) {
    const error = record['error'];
    const { class: errorClass, desc } = (error !== null && typeof error === 'object' ? error : {}) as { class?: unknown; desc?: unknown };
    return { kind: 'error', id: record['id'], errorClass: String(errorClass ?? 'UnknownError'), desc: String(desc ?? JSON.stringify(error)) };
  }
  if ('return' in record) return { kind: 'return', id: record['id'], value: record['return'] };
  return { kind: 'invalid', problem: 'neither a greeting, a reply nor an event' };
}
