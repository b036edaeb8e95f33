/**
 * Where QEMU 10 comes from on Debian 12: bookworm-backports. The lab adds that suite, on the
 * mirror the machine already uses, unless some apt source already names it.
 */
export interface AptSourceFile {
  readonly path: string;
  readonly text: string;
}

export interface BackportsPlan {
  readonly suite: string;
  /** Some source already lists the suite: nothing to add. */
  readonly isPresent: boolean;
  /** File to write and its content (deb822) when absent. */
  readonly file: string;
  readonly content: string;
  readonly mirror: string;
}

export const BACKPORTS_SOURCE_FILE = '/etc/apt/sources.list.d/vfio-hil-backports.sources';
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

interface SourceEntry {
  readonly uris: readonly string[];
  readonly suites: readonly string[];
  readonly signedBy?: string;
}

function parseOneLine(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*/, '').trim();
    if (!line.startsWith('deb ')) continue;
    const options = /\[([^\]]*)\]/.exec(line)?.[1] ?? '';
    const words = line.replace(/\[[^\]]*\]/, '').trim().split(/\s+/);
    const signedBy = /signed-by=(\S+)/.exec(options)?.[1];
    if (words.length >= 3) entries.push({ uris: [words[1]!], suites: [words[2]!], ...(signedBy === undefined ? {} : { signedBy }) });
  }
  return entries;
}

function parseDeb822(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match !== null) fields.set(match[1]!.toLowerCase(), match[2]!.trim());
    }
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb') || fields.get('enabled') === 'no') continue;
    const signedBy = fields.get('signed-by');
    entries.push({
      uris: (fields.get('uris') ?? '').split(/\s+/).filter((u) => u !== ''),
      suites: (fields.get('suites') ?? '').split(/\s+/).filter((s) => s !== ''),
      ...(signedBy === undefined || signedBy === '' ? {} : { signedBy }),
    });
  }
  return entries;
}

export function parseAptSources(file: AptSourceFile): SourceEntry[] {
  return file.path.endsWith('.sources') ? parseDeb822(file.text) : parseOneLine(file.text);
}

export function planBackportsSource(files: readonly AptSourceFile[], codename: string): BackportsPlan {
  const suite = `${codename}-backports`;
  const entries = files.flatMap(parseAptSources);
  const isPresent = entries.some((e) => e.suites.includes(suite));
  const base = entries.find((e) => e.suites.includes(codename) && e.uris.length > 0);
  const mirror = base?.uris[0] ?? DEFAULT_MIRROR;
  const content = [
    '# Added by vfio-hil (harness/virtual-lab): QEMU 10 for the virtual lab.',
    'Types: deb',
    `URIs: ${mirror}`,
    `Suites: ${suite}`,
    'Components: main',
    `Signed-By: ${base?.signedBy ?? DEFAULT_KEYRING}`,
    '',
  ].join('\n');
  return { suite, isPresent, file: BACKPORTS_SOURCE_FILE, content, mirror };
}
