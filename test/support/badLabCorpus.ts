import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../harness/projectRoot.js';

/** The corpus is data: read from the checkout, never from dist/. */
export const BAD_LAB_DIR = join(projectRoot(), 'test', 'bad-lab');
export const MANIFEST_FILE = 'cases.yaml';

/** One broken lab file and the exact error it must get (see the header of cases.yaml). */
export interface BadLabCase {
  readonly file: string;
  readonly broken: string;
  /** CONFIG_INVALID: "line:col message" per problem, without the file name. */
  readonly problems?: readonly string[];
  /** Any other error: its code and whole message, with {file}, {dir} and {port} placeholders. */
  readonly code?: string;
  readonly message?: string;
  readonly absent?: boolean;
  readonly via?: 'preflight';
  readonly against?: 'sshd' | 'nothing';
}

const KEYS = new Set(['file', 'broken', 'problems', 'code', 'message', 'absent', 'via', 'against']);

/** The manifest, checked for its own shape so a typo in it fails loudly instead of testing less. */
export function readBadLabCases(): BadLabCase[] {
  const entries: unknown = parse(readFileSync(join(BAD_LAB_DIR, MANIFEST_FILE), 'utf8'));
  if (!Array.isArray(entries)) throw new Error(`${MANIFEST_FILE} must be a list of cases`);
  return entries.map((entry: unknown, index) => checkCase(entry, `${MANIFEST_FILE} entry ${index + 1}`));
}

function checkCase(entry: unknown, where: string): BadLabCase {
  if (typeof entry !== 'object' || entry === null) throw new Error(`${where} must be a mapping`);
  const record = entry as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) throw new Error(`${where} has unknown keys: ${unknown.join(', ')}`);
  if (typeof record['file'] !== 'string' || typeof record['broken'] !== 'string') throw new Error(`${where} needs file and broken`);
  const hasProblems = Array.isArray(record['problems']) && record['problems'].every((line) => typeof line === 'string');
  const hasMessage = typeof record['code'] === 'string' && typeof record['message'] === 'string';
  if (hasProblems === hasMessage) throw new Error(`${where} (${record['file']}) needs either problems, or code and message`);
  if (record['via'] !== undefined && (record['via'] !== 'preflight' || !['sshd', 'nothing'].includes(String(record['against'])))) {
    throw new Error(`${where} (${record['file']}): via must be preflight, with against: sshd or nothing`);
  }
  return record as unknown as BadLabCase;
}

export interface Placeholders {
  /** The lab path as given to the loader or the CLI. */
  readonly file: string;
  readonly dir?: string;
  readonly port?: number;
}

/** The whole error message a case expects, for a lab loaded from `values.file`. */
export function expectedMessage(badLab: BadLabCase, values: Placeholders): string {
  if (badLab.problems !== undefined) return badLab.problems.map((problem) => `${values.file}:${problem}`).join('\n');
  return fill(badLab.message ?? '', values);
}

export function expectedCode(badLab: BadLabCase): string {
  return badLab.problems !== undefined ? 'CONFIG_INVALID' : (badLab.code ?? '');
}

function fill(text: string, values: Placeholders): string {
  return text.replace(/\{(file|dir|port)\}/g, (_match, name: keyof Placeholders) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the expected message uses {${name}}, which this test does not fill in: ${text}`);
    return String(value);
  });
}
