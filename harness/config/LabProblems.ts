import type { ConfigProblem } from './ConfigError.js';
import type { PathSegment, SourcePosition, YamlLocator } from './YamlLocator.js';

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Collects the problems of one lab file. Every message starts with the dotted path of what is
 * wrong, so the text reads on its own in a terminal, a CI log or a report.
 */
export class LabProblems {
  private readonly problems: ConfigProblem[] = [];

  constructor(
    /** The lab file as the user named it. */
    readonly file: string,
    readonly locator: YamlLocator,
  ) {}

  get items(): readonly ConfigProblem[] {
    return this.problems;
  }

  get isEmpty(): boolean {
    return this.problems.length === 0;
  }

  /** Whether a problem is already reported for exactly this path (to keep one message per value). */
  hasPath(segments: readonly PathSegment[]): boolean {
    const path = displayPath(segments);
    return this.problems.some((problem) => problem.path === path);
  }

  /** A problem with a value: `<path> <text>`, placed on the value. */
  atValue(segments: readonly PathSegment[], text: string): void {
    this.add(segments, text, this.locator.valuePosition(segments));
  }

  /** A problem with a key (unknown, badly named, missing): `<path> <text>`, placed on the key. */
  atKey(segments: readonly PathSegment[], text: string): void {
    this.add(segments, text, this.locator.keyPosition(segments));
  }

  /** A problem at a known source position (YAML syntax errors). */
  at(position: SourcePosition, segments: readonly PathSegment[], message: string): void {
    this.problems.push({ file: this.file, ...position, path: displayPath(segments), message });
  }

  private add(segments: readonly PathSegment[], text: string, position: SourcePosition): void {
    const path = displayPath(segments);
    const subject = path === '' ? 'the lab file' : path;
    this.problems.push({ file: this.file, ...position, path, message: `${subject} ${text}` });
  }
}

/** `hosts.host-a.nics[0].vf.pf`: numbers are list indices; odd keys are quoted. */
export function displayPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Segments of an ajv instancePath ("/hosts/host-a/nics/0"), with list indices as numbers: which
 * segments are indices is read from the data itself, since a mapping may have a key "0".
 */
export function segmentsOfPointer(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(key);
      segments.push(index);
      current = current[index];
    } else {
      segments.push(key);
      current = isRecord(current) ? current[key] : undefined;
    }
  }
  return segments;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
