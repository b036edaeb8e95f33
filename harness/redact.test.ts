import { expect } from 'chai';
import { redact, REDACTED } from './redact.js';

describe('redact', () => {
  it('replaces every occurrence of every secret, taken literally', () => {
    expect(redact('pass a.b*c then a.b*c again; also s3', ['a.b*c', 's3'])).to.equal(`pass ${REDACTED} then ${REDACTED} again; also ${REDACTED}`);
  });

  it('hides a secret that contains another one whole, not half', () => {
    expect(redact('hunter2-long', ['hunter2', 'hunter2-long'])).to.equal(REDACTED);
  });

  it('leaves text alone when there is no secret to hide', () => {
    expect(redact('nothing here', [undefined, ''])).to.equal('nothing here');
  });
});
