import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { quote, raw, sh } from '../harness/shell.js';
import { Canary } from './support/Canary.js';

/** The shells a harness command meets: dash as /bin/sh on the controller, bash as root's login shell on hosts. */
const SHELLS = ['/bin/sh', '/bin/bash'].filter((shell) => existsSync(shell));

/**
 * What the shell's words are after quoting: printf hands each argument back NUL-terminated. The
 * script goes in on stdin, as over SSH, since one argv string may hold at most 128 KiB.
 */
function wordsAfterShell(shell: string, script: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell, ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${shell} exited ${code}: ${Buffer.concat(stderr).toString('utf8').slice(0, 500)}`));
      const text = Buffer.concat(stdout).toString('utf8');
      resolve(text === '' ? [] : text.slice(0, -1).split('\0'));
    });
    child.stdin.end(`${script}\n`);
  });
}

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings built from the characters shells treat specially, plus a few beyond ASCII. */
function hostileStrings(count: number): string[] {
  const alphabet = [..."'\"`$\\!#&|;<>(){}[]*?~=%^,:.@+-_/ \t\n\r\x07\x1b\x7fazAZ09", 'é', '→', '🙂', '\u00a0', '\u2028'];
  const next = random(0x5eed);
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(next() * 24);
    return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  });
}

describe('shell quoting: every value comes out of a POSIX shell as the one word it went in as', function () {
  this.timeout(60_000);
  const canary = new Canary();
  after(() => canary.remove());

  const everyCharacter = Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1));
  const values = [
    '',
    "'",
    "''",
    "'\\''",
    '\\',
    '-n',
    '--',
    '~',
    '~root',
    ...everyCharacter,
    ...everyCharacter.map((c) => `a${c}b`),
    ...canary.payloads().map((payload, i) => payload.text(`quote-${i}`)),
    ...hostileStrings(2000),
    'x'.repeat(100_000),
  ];

  for (const shell of SHELLS) {
    it(`${shell}: quote() keeps ${values.length} hostile values whole and runs none of them`, async () => {
      const command = `printf '%s\\0' ${values.map((value) => quote(value)).join(' ')}`;
      expect(await wordsAfterShell(shell, command)).to.deep.equal(values);
      expect(canary.tripped()).to.deep.equal([]);
    });

    it(`${shell}: the sh tag quotes scalars and each element of a list, and leaves raw() alone`, async () => {
      const [first, ...rest] = values;
      const command = sh`printf '%s\\0' ${first!} ${rest} ${raw('"$((6 * 7))"')} ${42}`;
      expect(await wordsAfterShell(shell, command)).to.deep.equal([...values, '42', '42']);
      expect(canary.tripped()).to.deep.equal([]);
    });

    it(`${shell}: a quoted value survives a second shell layer (sh -c 'script' with the value as $1)`, async () => {
      const inner = 'printf "%s\\0" "$@"';
      const sample = values.filter((_, i) => i % 7 === 0);
      const command = sh`/bin/sh -c ${inner} sh ${sample}`;
      expect(await wordsAfterShell(shell, command)).to.deep.equal(sample);
      expect(canary.tripped()).to.deep.equal([]);
    });
  }

  it('leaves words of only safe characters bare, so commands stay readable in logs', () => {
    expect(quote('/var/lib/hil/vm-1.qmp')).to.equal('/var/lib/hil/vm-1.qmp');
    expect(quote('0000:3b:00.0')).to.equal('0000:3b:00.0');
    expect(quote('a b')).to.equal("'a b'");
    expect(quote("it's")).to.equal("'it'\\''s'");
  });
});
