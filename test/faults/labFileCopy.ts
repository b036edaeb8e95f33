import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument, type Document } from 'yaml';

/** A lab file written next to nothing of the project's: its folder is the fault's to break. */
export interface LabFileCopy {
  /** The copy's path, for `hil --lab <file>`. */
  readonly file: string;
  /** Its private folder (mkdtemp), where a fault may put its broken known_hosts or reports path. */
  readonly dir: string;
  remove(): void;
}

/** Fields whose relative paths the loader resolves against the lab file's folder. */
const PATH_FIELDS: readonly (readonly string[])[] = [['lab', 'stateDir'], ['lab', 'reportsDir']];
const HOST_PATH_FIELDS = ['identityFile', 'knownHosts', 'workDir'] as const;
const GUEST_PATH_FIELDS = ['kernel', 'initrd', 'disk'] as const;

/**
 * Copies a lab file into a fresh temporary folder with every relative path made absolute (so the
 * copy reaches the same hosts, keys and state), then lets `change` edit the copy's YAML — the
 * one setting a fault needs broken, while the project's own lab file stays untouched.
 */
export function labFileCopy(labFile: string, change: (doc: Document, dir: string) => void): LabFileCopy {
  const labDir = dirname(resolve(labFile));
  const doc = parseDocument(readFileSync(labFile, 'utf8'));
  const absolute = (path: readonly string[]): void => {
    const value = doc.getIn(path);
    if (typeof value === 'string' && !isAbsolute(value)) doc.setIn(path, resolve(labDir, value));
  };
  for (const path of PATH_FIELDS) absolute(path);
  for (const [section, fields] of [['hosts', HOST_PATH_FIELDS], ['guests', GUEST_PATH_FIELDS]] as const) {
    const names = Object.keys((doc.toJS() as Record<string, Record<string, unknown> | undefined>)[section] ?? {});
    for (const name of names) for (const field of fields) absolute([section, name, field]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'hil-fault-'));
  try {
    change(doc, dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, doc.toString());
  return { file, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
