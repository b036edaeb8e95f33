import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import { errorMessage } from '../errors.js';
import { buildLabConfig } from './buildLabConfig.js';
import { ConfigError } from './ConfigError.js';
import { checkQemuSources } from './checkQemuSources.js';
import { crossCheckLab } from './crossCheckLab.js';
import { describeYamlError } from './describeYamlError.js';
import { firstInvalidUtf8Offset } from './invalidUtf8.js';
import { createLabValidator } from './labSchema.js';
import { displayPath, LabProblems } from './LabProblems.js';
import { reportSchemaErrors } from './reportSchemaErrors.js';
import type { LabConfig } from './types.js';
import { YamlLocator } from './YamlLocator.js';

/**
 * Reads and checks a lab file. `file` is kept as given in messages (so `lab.yaml:14:7` stays
 * short and clickable) and resolved against the current directory for LabConfig.file.
 * Throws ConfigError CONFIG_NOT_FOUND if the file cannot be read, CONFIG_INVALID with every
 * problem found otherwise.
 */
export function loadLab(file: string): LabConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw notFound(file, error);
  }
  const badByte = firstInvalidUtf8Offset(bytes);
  if (badByte !== undefined) throw notUtf8(file, bytes, badByte);
  return parseLab(bytes.toString('utf8'), file);
}

/** Checks lab file text; `file` names it in messages and anchors its relative paths. */
export function parseLab(text: string, file: string): LabConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problems = new LabProblems(file, new YamlLocator(doc, lineCounter));

  const syntaxErrors = [...doc.errors, ...doc.warnings];
  // After the first real syntax error the parser is resynchronising, and what it says next is
  // mostly an echo of the first; duplicate keys and unknown tags stand on their own.
  const firstBreak = doc.errors.find((error) => error.code !== 'DUPLICATE_KEY');
  for (const error of syntaxErrors) {
    if (error.code === 'DUPLICATE_KEY' || error.name === 'YAMLWarning' || error === firstBreak) reportYamlError(error, doc, problems);
  }
  const badAliasCount = reportUnresolvedAliases(doc, problems);
  // Past a syntax error the tree is a guess, and checking it would only add noise. Duplicate
  // keys leave a sound tree, so the rest of the file is still worth checking.
  const isTreeSound = badAliasCount === 0 && syntaxErrors.every((error) => error.code === 'DUPLICATE_KEY');
  if (!isTreeSound) throw ConfigError.invalid(problems.items);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    problems.at({ line: 1, col: 1 }, [], `the lab file cannot be read as data: ${errorMessage(error)}`);
    throw ConfigError.invalid(problems.items);
  }
  if (doc.contents === null) {
    problems.at({ line: 1, col: 1 }, [], 'the lab file is empty; start from lab.yaml (the virtual lab) or labs/physical.example.yaml');
    throw ConfigError.invalid(problems.items);
  }

  const validate = createLabValidator();
  reportSchemaErrors(validate(data).errors, data, problems);
  crossCheckLab(data, problems);
  checkQemuSources(data, file, problems);
  if (!problems.isEmpty) throw ConfigError.invalid(problems.items);
  return buildLabConfig(data, file);
}

function reportYamlError(error: YAMLError, doc: Document, problems: LabProblems): void {
  const position = problems.locator.position(error.pos[0]);
  if (error.code === 'DUPLICATE_KEY') {
    const duplicate = problems.locator.duplicateKeyAt(error.pos[0]);
    if (duplicate !== undefined) {
      const first = duplicate.first === undefined ? '' : ` (first at line ${duplicate.first.line}:${duplicate.first.col})`;
      problems.at(position, duplicate.segments, `${displayPath(duplicate.segments)} is set twice${first}; keep one of them`);
      return;
    }
  }
  const described = describeYamlError(error, doc, problems.locator);
  problems.at(described.position, [], described.message);
}

/** toJS throws on an alias without an anchor and loses its position, so find those first. */
function reportUnresolvedAliases(doc: Document, problems: LabProblems): number {
  let count = 0;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined) return;
      count++;
      const position = problems.locator.position(node.range?.[0] ?? 0);
      problems.at(position, [], `YAML syntax error: alias *${node.source} has no anchor &${node.source} before it`);
    },
  });
  return count;
}

function notFound(file: string, cause: unknown): ConfigError {
  const code = (cause as NodeJS.ErrnoException).code;
  const resolved = path.resolve(file);
  const where = resolved === file ? file : `${file} (${resolved})`;
  const message =
    code === 'ENOENT'
      ? `lab file ${where} does not exist. Run from the folder that holds lab.yaml, or give the path of a lab file (see labs/physical.example.yaml).`
      : code === 'EISDIR'
        ? `lab file ${where} is a folder, not a file. Give the path of the lab file in it, e.g. ${path.join(file, 'lab.yaml')}.`
        : `lab file ${where} cannot be read: ${errorMessage(cause)}. Check that it is a readable file.`;
  return new ConfigError('CONFIG_NOT_FOUND', message, { cause, data: { file, resolved } });
}

/** Where the first byte that is not UTF-8 sits, as line:col over the valid text before it. */
function notUtf8(file: string, bytes: Buffer, offset: number): ConfigError {
  const before = bytes.subarray(0, offset).toString('utf8');
  const line = before.split('\n').length;
  const col = before.length - before.lastIndexOf('\n');
  const byte = `0x${bytes[offset]!.toString(16).padStart(2, '0')}`;
  return ConfigError.invalid([{
    file, line, col, path: '',
    message: `the lab file is not UTF-8: byte ${byte} here is not a UTF-8 character; save the file as UTF-8`,
  }]);
}
