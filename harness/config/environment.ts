import { homedir } from 'node:os';
import { join } from 'node:path';

/** The one place the harness reads its process environment (design.md §4). */
export interface Environment {
  readonly sshAuthSock?: string;
  readonly homeDir: string;
  readonly sshConfigFile: string;
  readonly isRoot: boolean;
  readonly isTty: boolean;
  /** NO_COLOR (https://no-color.org) or not a terminal. */
  readonly isColorless: boolean;
  readonly isCi: boolean;
  /** HIL_NESTED_LAB=1: this run is the CI stage (or a developer) that builds and boots the nested lab. */
  readonly runsNestedLab: boolean;
}

export function readEnvironment(): Environment {
  const homeDir = homedir();
  const isTty = process.stdout.isTTY === true;
  const env = process.env;
  return {
    ...(env['SSH_AUTH_SOCK'] !== undefined && env['SSH_AUTH_SOCK'] !== '' ? { sshAuthSock: env['SSH_AUTH_SOCK'] } : {}),
    homeDir,
    sshConfigFile: join(homeDir, '.ssh', 'config'),
    isRoot: process.getuid?.() === 0,
    isTty,
    isColorless: (env['NO_COLOR'] ?? '') !== '' || !isTty,
    isCi: (env['CI'] ?? '') !== '' && env['CI'] !== 'false',
    runsNestedLab: env['HIL_NESTED_LAB'] === '1',
  };
}
