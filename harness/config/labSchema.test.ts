import { Ajv } from 'ajv';
import { expect } from 'chai';
import { createLabValidator, labSchema } from './labSchema.js';

type SchemaNode = Record<string, unknown>;

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every subschema of the lab schema that describes data, with its JSON pointer. `if` and `not`
 * subtrees are left out: they are conditions to match, not shapes of the file.
 */
function subschemas(node: unknown, pointer = '#'): [string, SchemaNode][] {
  if (!isNode(node)) return [];
  const found: [string, SchemaNode][] = [[pointer, node]];
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword === 'if' || keyword === 'not' || keyword === 'default') continue;
    if (keyword === 'properties' || keyword === 'definitions') {
      for (const [name, child] of Object.entries(value as SchemaNode)) found.push(...subschemas(child, `${pointer}/${keyword}/${name}`));
    } else if (Array.isArray(value)) {
      value.forEach((child, index) => found.push(...subschemas(child, `${pointer}/${keyword}/${index}`)));
    } else if (isNode(value)) {
      found.push(...subschemas(value, `${pointer}/${keyword}`));
    }
  }
  return found;
}

/** The definition a $ref points at, or the schema itself. */
function deref(schema: SchemaNode): SchemaNode {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  const name = ref.replace('#/definitions/', '');
  return (labSchema['definitions'] as Record<string, SchemaNode>)[name] as SchemaNode;
}

const definitionsAjv = new Ajv({ strict: true });
definitionsAjv.addSchema({ $id: 'lab', definitions: labSchema['definitions'] });

/** Whether a string passes the definition `name` of the schema. */
function accepts(name: string, value: string): boolean {
  const validate = definitionsAjv.getSchema(`lab#/definitions/${name}`);
  if (validate === undefined) throw new Error(`no definition ${name} in the lab schema`);
  return validate(value) === true;
}

describe('lab.schema.json', () => {
  const all = subschemas(labSchema);

  it('compiles under ajv strict mode', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    expect(ajv.validateSchema(labSchema), JSON.stringify(ajv.errors)).to.equal(true);
    expect(() => ajv.compile(labSchema)).to.not.throw();
  });

  it('describes every property, for editors', () => {
    const properties = all.filter(([pointer]) => /\/properties\/[^/]+$/.test(pointer));
    expect(properties.length).to.be.greaterThan(60);
    const undescribed = properties.filter(([, schema]) => typeof schema['description'] !== 'string' || schema['description'] === '');
    expect(undescribed.map(([pointer]) => pointer)).to.deep.equal([]);
  });

  it('closes every mapping: fixed keys forbid others, maps constrain their key names', () => {
    const objects = all.filter(([, schema]) => schema['type'] === 'object');
    const open = objects.filter(([, schema]) =>
      schema['properties'] !== undefined ? schema['additionalProperties'] !== false : !isNode(schema['propertyNames']) || !isNode(schema['additionalProperties']),
    );
    expect(objects.length).to.be.greaterThan(15);
    expect(open.map(([pointer]) => pointer)).to.deep.equal([]);
  });

  it('titles every pattern, so messages never show a raw regular expression', () => {
    const untitled = all.filter(([, schema]) => typeof schema['pattern'] === 'string' && typeof schema['title'] !== 'string');
    expect(untitled.map(([pointer]) => pointer)).to.deep.equal([]);
  });

  it('gives every string that reaches a shell a pattern', () => {
    const strings = all.filter(([pointer, schema]) => /\/properties\/[^/]+$/.test(pointer) && deref(schema)['type'] === 'string');
    const free = strings.filter(([, schema]) => {
      const target = deref(schema);
      const hasPattern = (node: unknown): boolean => isNode(node) && (typeof node['pattern'] === 'string' || (Array.isArray(node['allOf']) && node['allOf'].some(hasPattern)));
      return !hasPattern(target) && !Array.isArray(target['enum']);
    });
    expect(free.map(([pointer]) => pointer)).to.deep.equal([]);
  });

  it('holds the defaults the loader promises', () => {
    const data: SchemaNode = { defaults: {} };
    createLabValidator()(data);
    expect(data['defaults']).to.deep.equal({
      timeouts: { sshConnectMs: 10000, commandMs: 60000, bootMs: 90000, migrationMs: 120000 },
      migration: { downtimeLimitMs: 300, maxBandwidthBytesPerSec: 1073741824, port: 4446 },
      limits: { downtimeMs: 500, guestOutageMs: 2000 },
      probe: { rateHz: 100 },
    });
  });

  describe('patterns', () => {
    const shellTricks = ['a;b', 'a|b', 'a&b', '$(id)', '`id`', 'a b', "a'b", 'a"b', 'a\nb', '${HOME}', 'a>b', 'a\\b'];

    it('refuse shell characters in every pattern-checked kind of value', () => {
      // A key line ("ssh-ed25519 AAAA... comment") and a kernel command line are space-separated.
      const spaced = new Set(['hostKey', 'kernelCommandLine']);
      const patterned = Object.entries(labSchema['definitions'] as Record<string, SchemaNode>)
        .filter(([, schema]) => schema['type'] === 'string')
        .map(([name]) => name);
      expect(patterned).to.include.members(['pciAddress', 'path', 'absolutePath', 'ifName', 'driverName', 'address', 'uuid', 'mac', 'hostKey']);
      for (const name of patterned) {
        for (const trick of shellTricks) {
          if (trick === 'a b' && spaced.has(name)) continue;
          expect(accepts(name, `x${trick}`), `${name} accepted ${JSON.stringify(trick)}`).to.equal(false);
        }
      }
    });

    it('accept the values real labs use', () => {
      const good: [string, string][] = [
        ['pciAddress', '0000:3b:00.0'], ['pciAddress', '0000:af:1f.7'], ['ifName', 'enp59s0f0np0'], ['ifName', 'hil-tap0'],
        ['driverName', 'mlx5_vfio_pci'], ['driverName', 'pds-vfio-pci'], ['mac', '52:54:00:23:10:64'],
        ['uuid', '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'], ['address', '10.231.0.11'], ['address', 'host-a.lab.example.net'],
        ['path', '.lab/ssh/id_ed25519'], ['path', '/srv/hil/ssh/known_hosts'], ['absolutePath', '/opt/qemu-11.0/bin/qemu-system-x86_64'],
        ['jump', 'bastion'], ['jump', 'hil@bastion.lab.example.net:2222'], ['jump', 'hil@10.0.0.1'],
        ['hostKey', 'SHA256:PdD/yzavjKgfuPfV8k+VJH9ilL+FF6FjQJHgTMGbqDM'], ['version', '10.0'], ['version', '7.2.1'],
        ['ipv4Cidr', '10.231.0.1/24'], ['userName', 'root'], ['kernelCommandLine', 'console=ttyS0 panic=-1 hil.ip=10.0.0.2/24'],
      ];
      for (const [name, value] of good) expect(accepts(name, value), `${name} refused ${value}`).to.equal(true);
    });

    it('refuse values that only look right', () => {
      const bad: [string, string][] = [
        ['pciAddress', '0000:3B:00.0'], ['pciAddress', '3b:00.0'], ['pciAddress', '0000:3b:00.8'], ['ifName', 'sixteen-chars-xx'],
        ['ifName', '..'], ['address', '10.0.0.256'], ['address', '-host'], ['path', '../etc/passwd'], ['path', 'a/../../b'],
        ['path', '~/.ssh/id'], ['absolutePath', 'usr/bin/qemu'], ['absolutePath', '/usr/../bin/sh'], ['jump', 'Bastion'],
        ['jump', 'hil@host:70000'], ['uuid', '83B8F4F2-509F-382F-3C1E-E6BFE0FA1001'], ['version', '10'], ['ipv4Cidr', '10.0.0.1/33'],
        ['userName', 'Root'], ['hostKey', 'ssh-ed25519 AAAA; reboot'], ['kernelCommandLine', 'console=ttyS0; reboot'],
        ['name', '-a'], ['name', 'Host-A'], ['deviceId', '0nic'],
      ];
      for (const [name, value] of bad) expect(accepts(name, value), `${name} accepted ${value}`).to.equal(false);
    });
  });
});
