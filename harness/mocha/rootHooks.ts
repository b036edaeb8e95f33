import type { RootHookObject } from 'mocha';
import { errorMessage } from '../errors.js';
import type { LabSession } from '../session/LabSession.js';
import { slug, TestScope } from '../session/TestScope.js';
import { attemptIndexOf, firstAttemptOf } from './retryOnlyLabErrors.js';
import './mochaContext.js';

/**
 * Root hooks of a `hil run`: every attempt of a test gets a fresh TestScope whose teardown runs
 * after it, failures included; the scope then travels to the reporter on the test object. Each
 * attempt has its own artifacts folder ("003-title", "003-title.attempt-2"), so a retry never
 * overwrites what the attempt before it left. Without a session (fixture runs of the reporter)
 * tests get no `this.lab`.
 */
export function rootHooks(runDir: string, session: LabSession | null, interrupt?: { currentScope: TestScope | null }): RootHookObject {
  let testCount = 0;
  const indexOfTest = new WeakMap<Mocha.Runnable, number>();
  return {
    beforeAll(this: Mocha.Context) {
      if (session !== null) this.lab = session;
    },
    beforeEach(this: Mocha.Context) {
      const test = this.currentTest!;
      const first = firstAttemptOf(test);
      const index = indexOfTest.get(first) ?? ++testCount;
      indexOfTest.set(first, index);
      const attempt = attemptIndexOf(test) + 1;
      const subdir = `artifacts/${String(index).padStart(3, '0')}-${slug(test.title)}${attempt > 1 ? `.attempt-${attempt}` : ''}`;
      const scope = new TestScope(test.fullTitle(), runDir, subdir);
      test.hilScope = scope;
      this.scope = scope;
      if (interrupt !== undefined) interrupt.currentScope = scope;
    },
    async afterEach(this: Mocha.Context) {
      const scope = this.currentTest?.hilScope;
      if (interrupt !== undefined) interrupt.currentScope = null;
      if (scope === undefined) return;
      try {
        await scope.teardown.run();
      } catch (error) {
        // A teardown failure is the lab's problem; it must not hide the test's own verdict.
        scope.writeArtifact('teardown-errors.txt', 'other', 'teardown failures', errorMessage(error));
        throw error;
      }
    },
  };
}
