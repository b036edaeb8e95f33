import type { ErrorObject } from 'ajv';
import { closestMatch } from './editDistance.js';
import { isRecord, segmentsOfPointer, type LabProblems } from './LabProblems.js';

/** Keywords that judge a single value; one message per value is enough. */
const VALUE_KEYWORDS = new Set([
  'type', 'pattern', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'minLength', 'maxLength', 'format', 'not', 'multipleOf',
]);

type SchemaNode = Readonly<Record<string, unknown>>;

/**
 * Turns ajv's errors into one readable problem per mistake, worded from the failing part of the
 * schema: its title ("a PCI address like ..."), its range, or its known keys.
 */
export function reportSchemaErrors(errors: readonly ErrorObject[], data: unknown, problems: LabProblems): void {
  const groups = errors.filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf');
  const reportedValues = new Set<string>();
  for (const error of errors) {
    // `if` only says its `then` failed, and the `then` error says why; propertyNames says a key
    // failed, and the error inside it (which carries propertyName) says how.
    if (error.keyword === 'if' || error.keyword === 'propertyNames') continue;
    if (groups.some((group) => isBranchOf(error, group))) continue;
    const segments = segmentsOfPointer(error.instancePath, data);
    const schema = (error.parentSchema ?? {}) as SchemaNode;

    if (error.propertyName !== undefined) {
      const keySegments = [...segments, error.propertyName];
      if (!problems.hasPath(keySegments)) {
        problems.atKey(keySegments, `is not a valid key; it must be ${expectation(schema)}`);
      }
    } else if (VALUE_KEYWORDS.has(error.keyword)) {
      if (reportedValues.has(error.instancePath)) continue;
      reportedValues.add(error.instancePath);
      problems.atValue(segments, `must be ${expectation(schema)}, got ${show(error.data)}${quoteHint(schema, error.data)}`);
    } else if (error.keyword === 'required') {
      const missing = String(error.params['missingProperty']);
      const condition = error.schemaPath.includes('/then/') && typeof schema['description'] === 'string'
        ? ` ${schema['description']}` : '';
      problems.atKey([...segments, missing], `is required${condition}`);
    } else if (error.keyword === 'additionalProperties') {
      const unknown = String(error.params['additionalProperty']);
      problems.atKey([...segments, unknown], unknownKeyText(unknown, schema));
    } else if (error.keyword === 'oneOf' || error.keyword === 'anyOf') {
      // About a whole mapping: placed on its key, where the user looks for what the entry holds.
      problems.atKey(segments, groupText(error, schema));
    } else if (error.keyword === 'minItems' || error.keyword === 'minProperties') {
      problems.atKey(segments, `must have at least ${countOf(Number(error.params['limit']))}`);
    } else if (error.keyword === 'maxItems' || error.keyword === 'maxProperties') {
      problems.atKey(segments, `must have at most ${countOf(Number(error.params['limit']))}`);
    } else {
      problems.atValue(segments, error.message ?? `fails schema rule ${error.schemaPath}`);
    }
  }
}

/** What a value must be, in words: the subschema's title, else its type and range. */
export function expectation(schema: SchemaNode): string {
  if (typeof schema['title'] === 'string') return schema['title'];
  const values = schema['enum'];
  if (Array.isArray(values)) return `one of ${values.map(String).join(', ')}`;
  if ('const' in schema) return JSON.stringify(schema['const']);
  const min = typeof schema['minimum'] === 'number' ? schema['minimum'] : undefined;
  const max = typeof schema['maximum'] === 'number' ? schema['maximum'] : undefined;
  switch (schema['type']) {
    case 'integer':
      return `an integer${range(min, max)}`;
    case 'number':
      return `a number${range(min, max)}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a string';
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    default:
      return 'a valid value';
  }
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` ${min}-${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** A value as the user would recognise it from the file. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** YAML reads 10.0 as the number 10 and yes/no-looking words stay strings, so say so. */
function quoteHint(schema: SchemaNode, value: unknown): string {
  // YAML 1.2 has only true and false: "yes", "on" and friends from YAML 1.1 are plain strings.
  if (schema['type'] === 'boolean' && typeof value === 'string' && /^(y|yes|n|no|on|off|true|false)$/i.test(value)) {
    return ` (YAML 1.2 reads ${value} as a string; write true or false)`;
  }
  const wantsString = schema['type'] === 'string' || schema['pattern'] !== undefined;
  if (!wantsString || (typeof value !== 'number' && typeof value !== 'boolean')) return '';
  return ` (YAML reads this as a ${typeof value}; put it in quotes)`;
}

function unknownKeyText(unknown: string, schema: SchemaNode): string {
  const properties = schema['properties'];
  const known = isRecord(properties) ? Object.keys(properties) : [];
  const suggestion = closestMatch(unknown, known);
  if (suggestion !== undefined) return `is not a known key; did you mean "${suggestion}"?`;
  return known.length > 0 ? `is not a known key; known keys: ${known.join(', ')}` : 'is not a known key';
}

/** "exactly one of emulated, vf, mdev" when the branches only differ in which key is present. */
function groupText(error: ErrorObject, schema: SchemaNode): string {
  const branches = schema[error.keyword];
  const keys = Array.isArray(branches) ? branches.map(requiredOnlyKey) : [];
  if (keys.length === 0 || keys.some((key) => key === undefined)) return `must be ${expectation(schema)}`;
  const names = keys as string[];
  if (error.keyword === 'anyOf') return `must have at least one of ${names.join(', ')}`;
  const present = isRecord(error.data) ? names.filter((name) => name in (error.data as object)) : [];
  const seen = present.length === 0 ? 'none' : present.join(' and ');
  return `must have exactly one of ${names.join(', ')}; it has ${seen}`;
}

function requiredOnlyKey(branch: unknown): string | undefined {
  if (!isRecord(branch)) return undefined;
  const required = branch['required'];
  return Array.isArray(required) && required.length === 1 && typeof required[0] === 'string' ? required[0] : undefined;
}

/** An error raised inside a branch of a oneOf/anyOf that is reported as a whole. */
function isBranchOf(error: ErrorObject, group: ErrorObject): boolean {
  return error !== group && error.instancePath === group.instancePath && error.schemaPath.startsWith(`${group.schemaPath}/`);
}

function countOf(limit: number): string {
  return limit === 1 ? '1 entry' : `${limit} entries`;
}
