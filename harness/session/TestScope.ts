import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact, MigrationResult } from '../report/RunResults.js';
import { TeardownStack } from '../teardown.js';
import type { Diagnosis } from '../report/Diagnosis.js';

/**
 * What one test gathers while it runs: its teardown stack, its artifacts folder, labels, and the
 * migrations it made. The mocha root hooks open one per test and hand it to the reporter.
 */
export class TestScope {
  readonly teardown: TeardownStack;
  readonly artifacts: Artifact[] = [];
  readonly migrations: MigrationResult[] = [];
  readonly labels: Record<string, string> = {};
  readonly references: string[] = [];
  /** Set by a test that decides its own verdict (bug reproduction: REPRODUCED / FIXED / UNEXPECTED). */
  /** How each failure of a guest before the behaviour under test was judged (lab ERROR or product FAIL). */
  readonly diagnoses: Diagnosis[] = [];
  verdict: { readonly outcome: 'REPRODUCED' | 'FIXED' | 'UNEXPECTED'; readonly why: string } | null = null;

  constructor(readonly id: string, readonly runDir: string, readonly artifactsSubdir: string) {
    this.teardown = new TeardownStack(`test "${id}"`);
  }

  /** Absolute folder for this test's files (created on first use). */
  get artifactsDir(): string {
    const dir = join(this.runDir, this.artifactsSubdir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** Path for a new artifact file, registered with its kind. */
  artifactPath(name: string, kind: Artifact['kind'], description: string): string {
    const path = join(this.artifactsDir, name);
    this.artifacts.push({ path: join(this.artifactsSubdir, name), kind, description });
    return path;
  }

  writeArtifact(name: string, kind: Artifact['kind'], description: string, content: string): void {
    writeFileSync(this.artifactPath(name, kind, description), content, { mode: 0o600 });
  }
}

/** A file-system-safe slug of a test id, for its artifacts folder. */
export function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100);
}
