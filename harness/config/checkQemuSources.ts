import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isRecord, type LabProblems } from './LabProblems.js';
import type { PathSegment } from './YamlLocator.js';

const BASE_KINDS = ['debian', 'tarball', 'tree', 'git'] as const;

/**
 * The rules of qemu.<name> a JSON Schema cannot state: exactly one of binary and source, exactly
 * one kind of base, and every input file there on the controller (a missing patch is a lab-file
 * error at its line, not a failure minutes into a build).
 */
export function checkQemuSources(data: unknown, labFile: string, problems: LabProblems): void {
  if (!isRecord(data) || !isRecord(data['qemu'])) return;
  const labDir = path.dirname(path.resolve(labFile));
  const report = (segments: PathSegment[], text: string): void => {
    if (!problems.hasPath(segments)) problems.atValue(segments, text);
  };
  for (const [name, build] of Object.entries(data['qemu'])) {
    if (!isRecord(build)) continue;
    const at = (...rest: PathSegment[]): PathSegment[] => ['qemu', name, ...rest];
    const hasBinary = build['binary'] !== undefined;
    const source = build['source'];
    if (hasBinary && source !== undefined) report(at('source'), 'cannot be set together with binary; a build is either installed (binary) or built by the harness (source)');
    if (!hasBinary && source === undefined) problems.atKey(at(), 'needs binary (a QEMU installed on the hosts) or source (a build the harness makes)');
    if (!isRecord(source)) continue;
    checkBase(source['base'], (...rest) => at('source', 'base', ...rest), labDir, problems, report);
    const checkFile = (segments: PathSegment[], value: unknown, expect: 'file' | 'file or folder'): void => {
      if (typeof value !== 'string') return;
      const resolved = path.resolve(labDir, value);
      if (!existsSync(resolved)) report(segments, `names ${resolved}, which does not exist; give a ${expect} relative to ${labDir}`);
      else if (expect === 'file' && statSync(resolved).isDirectory()) report(segments, `names the folder ${resolved}; leaveOut takes single patch files`);
    };
    for (const list of ['patches', 'localPatches'] as const) {
      const entries = source[list];
      if (!Array.isArray(entries)) continue;
      entries.forEach((entry, i) => {
        if (typeof entry === 'string') checkFile(at('source', list, i), entry, 'file or folder');
        else if (isRecord(entry)) checkFile(at('source', list, i, 'path'), entry['path'], 'file or folder');
      });
    }
    const leaveOut = source['leaveOut'];
    if (Array.isArray(leaveOut)) leaveOut.forEach((entry, i) => checkFile(at('source', 'leaveOut', i), entry, 'file'));
  }
}

function checkBase(
  base: unknown,
  at: (...rest: PathSegment[]) => PathSegment[],
  labDir: string,
  problems: LabProblems,
  report: (segments: PathSegment[], text: string) => void,
): void {
  if (!isRecord(base)) return;
  const kinds = BASE_KINDS.filter((k) => base[k] !== undefined);
  if (kinds.length === 0) problems.atKey(at(), `needs one of ${BASE_KINDS.join(', ')}`);
  if (kinds.length > 1) report(at(kinds[1]!), `cannot be set together with ${kinds[0]}; a build has one base`);
  if (base['git'] !== undefined && base['ref'] === undefined) problems.atKey(at(), 'needs ref with git (the branch or tag to build)');
  if (base['ref'] !== undefined && base['git'] === undefined) report(at('ref'), 'is only used with git');
  if (base['suite'] !== undefined && base['debian'] === undefined) report(at('suite'), 'is only used with debian');
  for (const key of ['tarball', 'tree'] as const) {
    const value = base[key];
    if (typeof value !== 'string') continue;
    const resolved = path.resolve(labDir, value);
    if (!existsSync(resolved)) report(at(key), `names ${resolved}, which does not exist`);
  }
}
