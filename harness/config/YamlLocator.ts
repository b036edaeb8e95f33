import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';

/** A key or an index on the way down from the document root. */
export type PathSegment = string | number;

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
}

interface Found {
  /** How many segments of the path exist in the document. */
  readonly depth: number;
  /** The node at that depth (undefined for an empty document or an empty value). */
  readonly node: Node | undefined;
  /** The key that holds it, when its parent is a mapping. */
  readonly key: Node | undefined;
}

/**
 * Finds where a path of the loaded data sits in the YAML source. A path that goes past what the
 * file spells out (a key filled in by a default, a missing required key) lands on the deepest part
 * that is there, which is where the user has to add something.
 */
export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Whether the file itself spells out this path (as opposed to a default filling it in). */
  has(segments: readonly PathSegment[]): boolean {
    return this.find(segments).depth === segments.length;
  }

  /** Where the value at `segments` is written. */
  valuePosition(segments: readonly PathSegment[]): SourcePosition {
    const found = this.find(segments);
    if (found.depth === segments.length) return this.startOf(found.node) ?? this.startOf(found.key) ?? this.origin();
    return this.startOf(found.key) ?? this.startOf(found.node) ?? this.origin();
  }

  /** Where the key that ends `segments` is written (for unknown keys, names and required keys). */
  keyPosition(segments: readonly PathSegment[]): SourcePosition {
    const found = this.find(segments);
    return this.startOf(found.key) ?? this.startOf(found.node) ?? this.origin();
  }

  /** Line and column of a character offset into the source. */
  position(offset: number): SourcePosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, col };
  }

  /**
   * The path of the mapping key that starts at `offset`, and where the first key of the same name
   * in that mapping is: what a duplicate-key report needs.
   */
  duplicateKeyAt(offset: number): { segments: PathSegment[]; first: SourcePosition | undefined } | undefined {
    return this.searchKey(this.doc.contents ?? undefined, [], offset);
  }

  private searchKey(
    node: Node | undefined,
    segments: PathSegment[],
    offset: number,
  ): { segments: PathSegment[]; first: SourcePosition | undefined } | undefined {
    if (isMap(node)) {
      for (const pair of node.items as Pair<unknown, unknown>[]) {
        const name = keyName(pair.key);
        if (isNode(pair.key) && pair.key.range?.[0] === offset && name !== undefined) {
          const first = (node.items as Pair<unknown, unknown>[]).find((other) => keyName(other.key) === name);
          const firstKey = first?.key;
          return { segments: [...segments, name], first: isNode(firstKey) ? this.startOf(firstKey) : undefined };
        }
        const inner = this.searchKey(asNode(pair.value), [...segments, name ?? '?'], offset);
        if (inner !== undefined) return inner;
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) {
        const inner = this.searchKey(asNode(item), [...segments, index], offset);
        if (inner !== undefined) return inner;
      }
    }
    return undefined;
  }

  private find(segments: readonly PathSegment[]): Found {
    let node = this.resolve(this.doc.contents ?? undefined);
    let key: Node | undefined;
    let depth = 0;
    for (const segment of segments) {
      if (isMap(node)) {
        const pair = (node.items as Pair<unknown, unknown>[]).find((item) => keyName(item.key) === String(segment));
        if (pair === undefined) break;
        key = asNode(pair.key);
        node = this.resolve(asNode(pair.value));
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined || !Number.isInteger(Number(segment))) break;
        key = undefined;
        node = this.resolve(asNode(item));
      } else {
        break;
      }
      depth++;
    }
    return { depth, node, key };
  }

  /** Follows an alias to its anchor, so a path can continue inside shared YAML. */
  private resolve(node: Node | undefined): Node | undefined {
    if (!isAlias(node)) return node;
    return asNode(node.resolve(this.doc));
  }

  private startOf(node: Node | undefined): SourcePosition | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.position(offset);
  }

  private origin(): SourcePosition {
    const offset = this.doc.contents?.range?.[0];
    return offset === undefined ? { line: 1, col: 1 } : this.position(offset);
  }
}

function isNode(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

function asNode(value: unknown): Node | undefined {
  return isNode(value) ? value : undefined;
}

function keyName(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}
