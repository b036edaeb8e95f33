import { readFile } from 'node:fs/promises';
import SSHConfig, { glob, LineType } from 'ssh-config';
import { SshError } from './SshError.js';

/**
 * The options of an OpenSSH client config (ssh_config(5)) that the transport honours for one
 * host alias: first value wins, `Host` patterns with wildcards and negation. Parsing and matching
 * are the ssh-config package's; `Match exec` is never run (it would execute commands from the
 * file). `Include` is not followed.
 */
export interface SshConfigEntry {
  readonly alias: string;
  /** True when a `Host` line other than a bare `*` matched the alias. */
  readonly isAliasMatched: boolean;
  readonly hostName?: string;
  readonly port?: number;
  readonly user?: string;
  /** As written, tokens and `~` unexpanded (see expandSshPath). */
  readonly identityFiles: readonly string[];
  /** "none" is reported as undefined, as ssh(1) treats it. */
  readonly proxyJump?: string;
}

export class SshConfigFile {
  private constructor(
    readonly file: string,
    private readonly config: SSHConfig,
  ) {}

  static parse(text: string, file: string): SshConfigFile {
    return new SshConfigFile(file, SSHConfig.parse(text));
  }

  /** A missing file is an empty config, as for ssh(1). */
  static async read(file: string): Promise<SshConfigFile> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return SshConfigFile.parse('', file);
      throw new SshError('SSH_CONFIG', `Could not read the ssh config ${file}: ${(error as Error).message}`, { cause: error, data: { file } });
    }
    return SshConfigFile.parse(text, file);
  }

  lookup(alias: string): SshConfigEntry {
    const computed = this.config.compute(alias, { ignoreCase: true, matchExec: false });
    const portText = single(computed['port']);
    let port: number | undefined;
    if (portText !== undefined) {
      port = Number(portText);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new SshError('SSH_CONFIG', `${this.file}: Port for Host ${alias} must be an integer 1-65535, got "${portText}"`, { data: { file: this.file, alias } });
      }
    }
    const proxyJump = single(computed['proxyjump']);
    const identityFiles = computed['identityfile'];
    return {
      alias,
      isAliasMatched: this.hasSpecificHostMatch(alias),
      hostName: single(computed['hostname']),
      port,
      user: single(computed['user']),
      identityFiles: identityFiles === undefined ? [] : [identityFiles].flat(),
      proxyJump: proxyJump === undefined || proxyJump.toLowerCase() === 'none' ? undefined : proxyJump,
    };
  }

  private hasSpecificHostMatch(alias: string): boolean {
    return this.config.some((line) => {
      if (line.type !== LineType.DIRECTIVE || line.param.toLowerCase() !== 'host') return false;
      const patterns = typeof line.value === 'string' ? line.value.split(/\s+/) : line.value.map((part) => part.val);
      return patterns.some((pattern) => pattern !== '*' && !pattern.startsWith('!')) && glob(patterns, alias);
    });
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Expands `~` and the ssh_config(5) tokens an IdentityFile may carry (%d home, %h host, %p port,
 * %r remote user, %n the alias as given, %% a percent sign). An unknown token is an error rather
 * than a path that silently does not exist.
 */
export function expandSshPath(
  path: string,
  tokens: { readonly homeDir: string; readonly host: string; readonly port: number; readonly user: string; readonly alias: string },
  file: string,
): string {
  const withHome = path === '~' || path.startsWith('~/') ? tokens.homeDir + path.slice(1) : path;
  return withHome.replace(/%(.)/g, (_whole, token: string) => {
    switch (token) {
      case '%': return '%';
      case 'd': return tokens.homeDir;
      case 'h': return tokens.host;
      case 'p': return String(tokens.port);
      case 'r': return tokens.user;
      case 'n': return tokens.alias;
      default:
        throw new SshError('SSH_CONFIG', `${file}: IdentityFile "${path}" uses the token %${token}, which the harness does not expand; write the path out`, { data: { file, path } });
    }
  });
}
