import type { RootHookObject } from 'mocha';
import { errorMessage } from '../errors.js';
import type { LabSession } from '../session/LabSession.js';
import { slug, TestScope } from '../session/TestScope.js';
import './mochaContext.js';

/**
 * Root hooks of a `hil run`: every test gets a fresh TestScope whose teardown runs after it,
 * failures included; the scope then travels to the reporter on the test object.
 */
export function rootHooks(session: LabSession, interrupt?: { currentScope: TestScope | null }): RootHookObject {
  let testIndex = 0;
  return {
    beforeAll(this: Mocha.Context) {
      this.lab = session;
    },
    beforeEach(this: Mocha.Context) {
      const test = this.currentTest!;
      const scope = new TestScope(test.fullTitle(), session.runDir, `artifacts/${String(++testIndex).padStart(3, '0')}-${slug(test.title)}`);
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
