import { expect } from 'chai';
import { parseQmpMessage } from './parseQmpMessage.js';

describe('parseQmpMessage', function () {
  const table: { line: string; expected: unknown }[] = [
    { line: '{"return": {"status": "running"}, "id": "hil-1"}', expected: { kind: 'return', id: 'hil-1', value: { status: 'running' } } },
    { line: '{"return": {}}', expected: { kind: 'return', id: undefined, value: {} } },
    {
      line: '{"id": "hil-2", "error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}',
      expected: { kind: 'error', id: 'hil-2', errorClass: 'CommandNotFound', desc: 'The command x has not been found' },
    },
    { line: '{"error": "odd"}', expected: { kind: 'error', id: undefined, errorClass: 'UnknownError', desc: '"odd"' } },
    {
      line: '{"timestamp": {"seconds": 1795527701, "microseconds": 923557}, "event": "RESUME"}',
      expected: { kind: 'event', name: 'RESUME', data: {}, timestampMs: 1795527701923.557 },
    },
    {
      line: '{"event": "MIGRATION", "data": {"status": "active"}}',
      expected: { kind: 'event', name: 'MIGRATION', data: { status: 'active' }, timestampMs: Number.NaN },
    },
    { line: '{"foo": 1}', expected: { kind: 'invalid', problem: 'neither a greeting, a reply nor an event' } },
    { line: '[1, 2]', expected: { kind: 'invalid', problem: 'not a JSON object' } },
    { line: '{"QMP": {"version": {}}}', expected: { kind: 'greeting', greeting: undefined } },
  ];
  for (const { line, expected } of table) {
    it(`classifies ${line}`, function () {
      expect(parseQmpMessage(line)).to.deep.equal(expected);
    });
  }

  it('says why a line is not JSON', function () {
    const message = parseQmpMessage('{"return": ');
    expect(message.kind).to.equal('invalid');
    expect(message.kind === 'invalid' && message.problem).to.match(/^not JSON \(/);
  });
});
