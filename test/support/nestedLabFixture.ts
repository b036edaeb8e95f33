import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLab, parseLab } from '../../harness/config/loadLab.js';
import type { LabConfig } from '../../harness/config/types.js';
import { projectRoot } from '../../harness/projectRoot.js';

export const NESTED_LAB_YAML = join(projectRoot(), 'labs', 'nested.yaml');

export interface NestedLabVariant {
  /** Namespace/interface prefix instead of `nhil`. */
  readonly prefix: string;
  /** First three octets of the lab's /24 instead of 10.232.0. */
  readonly subnet: string;
  /** State folder (keys, per-host files) relative to labs/, instead of `.lab/nested`. */
  readonly stateDir: string;
}

/**
 * labs/nested.yaml through the real loader; with a variant, the same file on its own prefix,
 * subnet and state folder, so tests and benchmarks never stop a nested lab someone is using.
 * The guests (the L2 image) stay where the lab file puts them: built once, shared.
 */
export function nestedLabConfig(variant?: NestedLabVariant): LabConfig {
  if (variant === undefined) return loadLab(NESTED_LAB_YAML);
  let text = readFileSync(NESTED_LAB_YAML, 'utf8');
  const swap = (pattern: RegExp, replacement: string): void => {
    if (!pattern.test(text)) throw new Error(`labs/nested.yaml no longer matches ${pattern}: update nestedLabFixture.ts`);
    text = text.replace(pattern, replacement);
  };
  swap(/^(\s*prefix:\s*)nhil\b/m, `$1${variant.prefix}`);
  swap(/\b10\.232\.0\./g, `${variant.subnet}.`);
  swap(/^(\s*stateDir:\s*)\.lab\/nested\b/m, `$1${variant.stateDir}`);
  swap(/\.lab\/nested\/ssh\//g, `${variant.stateDir}/ssh/`);
  return parseLab(text, NESTED_LAB_YAML);
}
