import { isMap, isScalar, isSeq, visit, type Document, type Node, type YAMLError } from 'yaml';
import type { SourcePosition, YamlLocator } from './YamlLocator.js';

export interface YamlErrorReport {
  readonly position: SourcePosition;
  readonly message: string;
}

/**
 * A YAML syntax error in the user's terms. The yaml library words some errors for programmers
 * ("please use YAML.parseAllDocuments()") and places an unclosed quote or bracket where it gave
 * up looking (often the end of the file) rather than where the user has to look: where it opened.
 */
export function describeYamlError(error: YAMLError, doc: Document, locator: YamlLocator): YamlErrorReport {
  const kind = error.name === 'YAMLWarning' ? 'YAML problem' : 'YAML syntax error';
  const at = locator.position(error.pos[0]);
  const gaveUpAt = `line ${at.line}:${at.col}`;
  const report = (position: SourcePosition, text: string): YamlErrorReport => ({ position, message: `${kind}: ${text}` });

  switch (error.code) {
    case 'MULTIPLE_DOCS':
      return report(at, "a second YAML document starts here, and a lab file is one document; remove the '---' line and what follows, or move it to a file of its own");
    case 'TAB_AS_INDENT':
      return report(at, `${error.message}; indent with spaces`);
    case 'TAG_RESOLVE_FAILED':
      return report(at, `${error.message}; remove the tag, lab files hold plain values`);
    case 'BLOCK_AS_IMPLICIT_KEY':
      return report(at, `${error.message}; check the indentation of the lines after this one, or quote a value that contains ": "`);
    case 'MISSING_CHAR': {
      const quoted = nodeEndingAt(doc, error.pos[0], (node) => isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE'));
      if (quoted?.range == null) break;
      const quote = isScalar(quoted) && quoted.type === 'QUOTE_SINGLE' ? "'" : '"';
      return report(locator.position(quoted.range[0]), `the ${quote} opened here is never closed (the value runs on to ${gaveUpAt}); close it where the value ends`);
    }
    case 'BAD_INDENT': {
      const flow = nodeEndingAt(doc, error.pos[0], (node) => (isMap(node) || isSeq(node)) && node.flow === true);
      if (flow?.range == null) break;
      const [open, close, what] = isSeq(flow) ? ['[', ']', 'list'] : ['{', '}', 'mapping'];
      return report(
        locator.position(flow.range[0]),
        `the ${open} opened here is never closed: end the ${what} with ${close} on this line, or on lines indented deeper than its key (the parser gave up at ${gaveUpAt})`,
      );
    }
  }
  return report(at, error.message);
}

/** The outermost node of the wanted kind whose source ends where the parser gave up. */
function nodeEndingAt(doc: Document, offset: number, isWanted: (node: Node) => boolean): Node | undefined {
  let found: Node | undefined;
  const check = (node: Node): symbol | undefined => {
    if (node.range?.[1] !== offset || !isWanted(node)) return undefined;
    found = node;
    return visit.BREAK;
  };
  visit(doc, { Scalar: (_key, node) => check(node), Map: (_key, node) => check(node), Seq: (_key, node) => check(node) });
  return found;
}
