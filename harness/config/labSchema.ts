import { Ajv, type ErrorObject } from 'ajv';
import schemaJson from '../../schema/lab.schema.json' with { type: 'json' };

/**
 * The published JSON Schema of lab files (schema/lab.schema.json): what editors validate against
 * and the single source of the loader's shape rules and defaults.
 */
export const labSchema: Readonly<Record<string, unknown>> = schemaJson;

export interface LabSchemaResult {
  readonly errors: readonly ErrorObject[];
}

/**
 * Returns a function that validates parsed YAML against the schema and fills in the schema's
 * defaults in place, so the schema stays the one place a default is written down.
 */
export function createLabValidator(): (data: unknown) => LabSchemaResult {
  // verbose: messages are built from the failing subschema (its title, range, known keys).
  const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: true });
  const validate = ajv.compile(labSchema);
  return (data) => {
    validate(data);
    return { errors: validate.errors ?? [] };
  };
}
