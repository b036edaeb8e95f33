import type { Outcome } from '../RunResults.js';
import { html, type SafeHtml } from './safeHtml.js';

export function badge(outcome: Outcome | null): SafeHtml {
  return outcome === null ? html`<span class="badge none">not run</span>` : html`<span class="badge ${outcome}">${outcome}</span>`;
}

/** ms with a precision that suits its size. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function durationText(durationMs: number): string {
  return durationMs >= 60_000 ? `${Math.floor(durationMs / 60_000)} min ${Math.round((durationMs % 60_000) / 1000)} s` : `${(durationMs / 1000).toFixed(1)} s`;
}

/** A stable, HTML-id-safe anchor for a test or cell key. */
export function anchor(prefix: string, text: string): string {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return `${prefix}-${(hash >>> 0).toString(36)}`;
}
