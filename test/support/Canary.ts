import { mkdtempSync, readdirSync, rmSync } from 'node:fs';

/** One way of smuggling a command into a shell word, with a name for failure messages. */
export interface Payload {
  readonly technique: string;
  /** The hostile text; running it as shell creates the canary file `tag` names. */
  readonly text: (tag: string) => string;
}

/**
 * A folder that stays empty unless a hostile value got executed: every payload runs
 * `/usr/bin/touch <folder>/<tag>` if a shell ever treats it as code. The absolute path of touch
 * matters: a test may put stub commands first on PATH, and an injected command must not hit one.
 */
export class Canary {
  readonly dir: string;

  constructor() {
    // Short, so that payloads stay within unix socket path limits (107 bytes) where they go.
    this.dir = mkdtempSync('/tmp/hc-');
  }

  /** The files injected commands created (those whose tag starts with `prefix`): each names what leaked. */
  tripped(prefix = ''): string[] {
    return readdirSync(this.dir).filter((tag) => tag.startsWith(prefix)).sort();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The command an injection would run. */
  touch(tag: string): string {
    return `/usr/bin/touch ${this.dir}/${tag}`;
  }

  /**
   * Every technique, for values that may hold anything. `without` drops the payloads holding one
   * of these characters, for values whose own validation refuses them (a QEMU option path may
   * hold no comma or line break): those are refused before any shell sees them.
   */
  payloads(options: { readonly without?: RegExp } = {}): Payload[] {
    const touch = (tag: string): string => this.touch(tag);
    const all: Payload[] = [
      { technique: 'command substitution', text: (tag) => `$(${touch(tag)})` },
      { technique: 'backticks', text: (tag) => `\`${touch(tag)}\`` },
      { technique: 'semicolon', text: (tag) => `x;${touch(tag)};x` },
      { technique: 'pipe', text: (tag) => `x|${touch(tag)}` },
      { technique: 'and-list', text: (tag) => `x&&${touch(tag)}` },
      { technique: 'background', text: (tag) => `x&${touch(tag)}&x` },
      { technique: 'single quote breakout', text: (tag) => `x';${touch(tag)};'x` },
      { technique: 'escaped single quote breakout', text: (tag) => `x\\';${touch(tag)};#` },
      { technique: 'double quote breakout', text: (tag) => `x";${touch(tag)};"x` },
      { technique: 'substitution in double quotes', text: (tag) => `"$(${touch(tag)})"` },
      { technique: 'variable and glob', text: (tag) => `$HOME*?[a]{b,c}~${'$'}{IFS}$(${touch(tag)})` },
      { technique: 'redirection', text: (tag) => `x>${this.dir}/${tag}` },
      { technique: 'newline', text: (tag) => `x\n${touch(tag)}\nx` },
      { technique: 'carriage return and tab', text: (tag) => `x\r\t;${touch(tag)}` },
    ];
    const without = options.without;
    return without === undefined ? all : all.filter((payload) => !without.test(payload.text('t')));
  }
}
