import type Mocha from 'mocha';
import { relative, sep } from 'node:path';
import { HarnessError, InfrastructureError } from '../errors.js';
import { firstAttemptOf } from './retryOnlyLabErrors.js';

declare module 'mocha' {
  interface Runnable {
    /** The key a spec declared for the test (keyedIt / withKey); with the spec file it makes the test's id. */
    hilKey?: string;
  }
}

/** Letters, digits and . _ - ( ) / + : readable in a YAML key without quotes, and free of spaces. */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._()/+-]*$/;

/**
 * Declares a test with a stable key: its id is "<spec file>:<key>" (e.g.
 * "migration/ping-pong:virtio-net-pci/no-viommu"), which stays when the title is reworded.
 * Expectation files, history and trends follow tests by this id.
 */
export function keyedIt(key: string, title: string, fn: Mocha.AsyncFunc): Mocha.Test;
export function keyedIt(key: string, title: string, fn: Mocha.Func): Mocha.Test;
export function keyedIt(key: string, title: string, fn: Mocha.Func | Mocha.AsyncFunc): Mocha.Test {
  return withKey(key, it(title, fn as Mocha.Func));
}

/** Gives a test made by a helper (bugTest, ...) its key. */
export function withKey<T extends Mocha.Runnable>(key: string, test: T): T {
  if (!KEY_PATTERN.test(key)) {
    throw new HarnessError('TEST_KEY_INVALID', `Test "${test.title}" declares the key "${key}"; a key is letters, digits and . _ - ( ) / + (no spaces), starting with a letter or digit.`);
  }
  test.hilKey = key;
  return test;
}

/**
 * The spec file part of an id: the compiled file's path under dist/suites without ".spec.js"
 * ("migration/ping-pong"), or under dist/ for specs elsewhere ("test/verdicts/fixtures/retry").
 */
export function specFileKey(file: string, distRoot: string): string {
  const path = relative(distRoot, file).split(sep).join('/');
  return path.replace(/^suites\//, '').replace(/\.spec\.(js|ts)$/, '').replace(/\.(js|ts)$/, '');
}

/**
 * The id of a test, or of a hook that failed (reported by mocha in place of a test): the hook's id
 * is its test's id with "#before-each" etc., so it cannot pass for the test's own result. Null
 * for a test that declared no key.
 */
export function testIdOf(runnable: Mocha.Runnable, distRoot: string): string | null {
  if ((runnable as { type?: string }).type === 'hook') {
    const target = runnable.ctx?.currentTest;
    const which = /"(before|after) (all|each)"/.exec(runnable.title);
    const hook = which === null ? 'hook' : `${which[1]}-${which[2]}`;
    const targetId = target === undefined ? null : testIdOf(target, distRoot);
    const file = runnable.file ?? target?.file;
    return `${targetId ?? (file === undefined ? '(unknown file)' : `${specFileKey(file, distRoot)}:(suite "${runnable.parent?.fullTitle() ?? ''}")`)}#${hook}`;
  }
  // mocha's clone of a retried test does not carry the key; the first attempt does.
  const key = runnable.hilKey ?? firstAttemptOf(runnable).hilKey;
  if (key === undefined || runnable.file === undefined) return null;
  return `${specFileKey(runnable.file, distRoot)}:${key}`;
}

/** Every test of the loaded suites with its id; throws naming each test without a key, and each id used twice. */
export function collectTestIds(root: Mocha.Suite, distRoot: string): Map<string, Mocha.Test> {
  const ids = new Map<string, Mocha.Test>();
  const problems: string[] = [];
  const walk = (suite: Mocha.Suite): void => {
    for (const test of suite.tests) {
      const id = testIdOf(test, distRoot);
      if (id === null) {
        problems.push(`${test.file ?? '(unknown file)'}: test "${test.fullTitle()}" has no id; declare it with keyedIt(key, title, fn) or withKey(key, test) (harness/mocha/testId.ts)`);
      } else if (ids.has(id)) {
        problems.push(`${test.file ?? '(unknown file)'}: the id "${id}" is declared twice ("${ids.get(id)!.fullTitle()}" and "${test.fullTitle()}"); keys must be unique within a spec file`);
      } else {
        ids.set(id, test);
      }
    }
    suite.suites.forEach(walk);
  };
  walk(root);
  if (problems.length > 0) {
    throw new InfrastructureError('RUN_TEST_IDS', `Tests need stable ids (expectation files and history follow them):\n  ${problems.join('\n  ')}`);
  }
  return ids;
}
