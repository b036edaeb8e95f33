import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import schemaJson from '../../schema/expect.schema.json' with { type: 'json' };
import { errorMessage } from '../errors.js';
import { ConfigError } from './ConfigError.js';
import { describeYamlError } from './describeYamlError.js';
import { isRecord, LabProblems } from './LabProblems.js';
import { reportSchemaErrors } from './reportSchemaErrors.js';
import { YamlLocator } from './YamlLocator.js';

export type ExpectedOutcome = 'PASS' | 'SKIP' | 'REPRODUCED' | 'FIXED' | 'NOT-REACHABLE' | 'FAIL';

/** What an expectation file expects of one test. */
export interface Expectation {
  readonly outcome: ExpectedOutcome;
  /** SKIP and NOT-REACHABLE: a regular expression the skip reason must match; FAIL: one the error must match. */
  readonly reason: string | null;
  /** A known FAIL: where the failure is tracked. */
  readonly link: string | null;
  /** Where in the expectation file ("expect/virtual.yaml:12"). */
  readonly place: string;
}

export interface ExpectationFile {
  /** As given on the command line. */
  readonly file: string;
  readonly description: string | null;
  readonly tests: ReadonlyMap<string, Expectation>;
}

/**
 * Reads an expectation file (`hil run --expect FILE`), checked against schema/expect.schema.json
 * like a lab file: every problem at once, each with its file:line:col.
 */
export function loadExpectations(file: string): ExpectationFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('CONFIG_NOT_FOUND', `Cannot read the expectation file ${file}: ${errorMessage(error)}. Give an existing file to --expect (e.g. expect/virtual.yaml).`, { cause: error });
  }
  return parseExpectations(text, file);
}

export function parseExpectations(text: string, file: string): ExpectationFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const locator = new YamlLocator(doc, lineCounter);
  const problems = new LabProblems(file, locator);
  for (const error of doc.errors) {
    const described = describeYamlError(error, doc, locator);
    problems.at(described.position, [], described.message);
  }
  if (!problems.isEmpty) throw ConfigError.invalid(problems.items);
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    problems.at({ line: 1, col: 1 }, [], 'the expectation file is empty; it needs "tests:" mapping test ids to outcomes (see expect/virtual.yaml)');
    throw ConfigError.invalid(problems.items);
  }
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  const validate = ajv.compile(schemaJson);
  validate(data);
  reportSchemaErrors(validate.errors ?? [], data, problems);
  if (!problems.isEmpty || !isRecord(data) || !isRecord(data['tests'])) throw ConfigError.invalid(problems.items);
  const tests = new Map<string, Expectation>();
  for (const [id, value] of Object.entries(data['tests'])) {
    const place = `${file}:${locator.keyPosition(['tests', id]).line}`;
    const entry = typeof value === 'string' ? { outcome: value } : (value as Record<string, unknown>);
    const reason = typeof entry['reason'] === 'string' ? entry['reason'] : null;
    if (reason !== null) {
      try {
        new RegExp(reason);
      } catch (error) {
        problems.atValue(['tests', id, 'reason'], `must be a regular expression (JavaScript syntax): ${errorMessage(error)}`);
      }
    }
    tests.set(id, { outcome: entry['outcome'] as ExpectedOutcome, reason, link: typeof entry['link'] === 'string' ? entry['link'] : null, place });
  }
  if (!problems.isEmpty) throw ConfigError.invalid(problems.items);
  return { file, description: typeof data['description'] === 'string' ? data['description'] : null, tests };
}
