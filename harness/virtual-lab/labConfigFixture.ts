import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLab, parseLab } from '../config/loadLab.js';
import type { LabConfig } from '../config/types.js';
import { projectRoot } from '../projectRoot.js';

export interface LabYamlVariant {
  /** State folder instead of lab.yaml's `.lab` (keys, image, sshd files all move with it). */
  readonly stateDir: string;
  /** Namespace/interface prefix instead of `hil`: lab tests never touch a lab someone is using. */
  readonly prefix: string;
  /** First three octets of the lab's /24 instead of 10.231.0. */
  readonly subnet: string;
}

/**
 * The project's lab.yaml through the real loader; with a variant, the same file with its state
 * folder, prefix and subnet swapped, so tests build exactly what lab.yaml describes, elsewhere.
 */
export function labYamlConfig(variant?: LabYamlVariant): LabConfig {
  const file = join(projectRoot(), 'lab.yaml');
  if (variant === undefined) return loadLab(file);
  let text = readFileSync(file, 'utf8');
  const swap = (pattern: RegExp, replacement: string): void => {
    if (!pattern.test(text)) throw new Error(`lab.yaml no longer matches ${pattern}: update labConfigFixture.ts`);
    text = text.replace(pattern, replacement);
  };
  swap(/^(\s*prefix:\s*)hil\b/m, `$1${variant.prefix}`);
  swap(/\bhil-tap/g, `${variant.prefix}-tap`);
  swap(/\b10\.231\.0\./g, `${variant.subnet}.`);
  swap(/(?<![\w/])\.lab(?=[/\s])/g, variant.stateDir);
  return parseLab(text, file);
}
