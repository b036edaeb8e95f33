import { closestMatch } from './editDistance.js';
import { isRecord, type LabProblems } from './LabProblems.js';
import type { PathSegment } from './YamlLocator.js';

/**
 * The rules a JSON Schema cannot state: names that must refer to other entries, fields that
 * exclude or need each other, and limits that depend on another field. Runs on data that may
 * have failed the schema, so every value is checked for its type before it is used, and a value
 * that already has a problem is not reported twice.
 */
export function crossCheckLab(data: unknown, problems: LabProblems): void {
  if (!isRecord(data)) return;
  const hosts = isRecord(data['hosts']) ? data['hosts'] : {};
  const qemuBuilds = isRecord(data['qemu']) ? data['qemu'] : {};
  const lab = isRecord(data['lab']) ? data['lab'] : {};
  const report = (segments: PathSegment[], text: string): void => {
    if (!problems.hasPath(segments)) problems.atValue(segments, text);
  };

  for (const [name, host] of Object.entries(hosts)) {
    if (!isRecord(host)) continue;
    checkHost(name, host, { hosts, qemuBuilds, kind: lab['kind'], problems, report });
  }
  checkJumpLoops(hosts, problems);
  // Without a hosts mapping every pair would name a missing host: the schema reports hosts itself.
  if (isRecord(data['hosts'])) checkPairs(data['pairs'], hosts, report);
  if (isRecord(data['guests'])) {
    for (const [name, guest] of Object.entries(data['guests'])) {
      if (isRecord(guest) && guest['kernel'] === undefined) {
        for (const field of ['initrd', 'append']) {
          if (guest[field] !== undefined) report(['guests', name, field], 'is only used with kernel; set kernel or remove it');
        }
      }
    }
  }
}

interface HostContext {
  readonly hosts: Record<string, unknown>;
  readonly qemuBuilds: Record<string, unknown>;
  readonly kind: unknown;
  readonly problems: LabProblems;
  readonly report: (segments: PathSegment[], text: string) => void;
}

function checkHost(name: string, host: Record<string, unknown>, context: HostContext): void {
  const { problems, report } = context;
  const at = (...rest: PathSegment[]): PathSegment[] => ['hosts', name, ...rest];

  const hasIdentity = host['identityFile'] !== undefined;
  if (hasIdentity && host['agent'] === true) {
    report(at('agent'), 'cannot be true when identityFile is set; authenticate with one of them');
  } else if (!hasIdentity && (host['agent'] === undefined || host['agent'] === false) && host['sshConfigHost'] === undefined) {
    // An agent that is not a boolean ("yes") already has its own problem; this one would only echo it.
    problems.atKey(at(), 'needs identityFile or agent: true to authenticate');
  }

  const hasKnownHosts = host['knownHosts'] !== undefined;
  if (hasKnownHosts && host['hostKey'] !== undefined) {
    report(at('hostKey'), 'cannot be set when knownHosts is set; verify the host with one of them');
  } else if (!hasKnownHosts && host['hostKey'] === undefined && host['trustOnFirstUse'] !== true) {
    problems.atKey(at(), 'needs knownHosts or hostKey to verify its host key (or trustOnFirstUse: true on a throwaway host)');
  }

  const qemu = host['qemu'];
  if (typeof qemu === 'string' && !(qemu in context.qemuBuilds)) {
    const builds = Object.keys(context.qemuBuilds);
    if (problems.locator.has(at('qemu'))) {
      report(at('qemu'), `must name a build in qemu (${builds.join(', ')}), got ${JSON.stringify(qemu)}${didYouMean(qemu, builds)}`);
    } else {
      problems.atKey(at('qemu'), `is not set, and qemu has no build named "${qemu}"; set it to one of ${builds.join(', ')}`);
    }
  }

  const jump = host['jump'];
  if (typeof jump === 'string' && !jump.includes('@')) {
    const names = Object.keys(context.hosts);
    if (jump === name) report(at('jump'), 'cannot be the host itself');
    else if (!(jump in context.hosts)) {
      report(at('jump'), `must name a host in hosts (${names.join(', ')}) or be user@address[:port], got ${JSON.stringify(jump)}${didYouMean(jump, names)}`);
    }
  }

  const workDir = host['workDir'];
  // Only for a kind that exists: an unknown kind has its own problem and is no reason to judge paths.
  if (typeof workDir === 'string' && (context.kind === 'physical' || context.kind === 'nested') && !workDir.startsWith('/')) {
    report(at('workDir'), `must be an absolute path on the host in a ${String(context.kind)} lab, got ${JSON.stringify(workDir)}`);
  }

  if (Array.isArray(host['nics'])) checkNics(host['nics'], at('nics'), report);
}

function checkNics(nics: unknown[], at: PathSegment[], report: HostContext['report']): void {
  const firstIndexByName = new Map<string, number>();
  nics.forEach((nic, index) => {
    if (!isRecord(nic)) return;
    const nicName = nic['name'];
    if (typeof nicName === 'string') {
      const first = firstIndexByName.get(nicName);
      if (first === undefined) firstIndexByName.set(nicName, index);
      else report([...at, index, 'name'], `${JSON.stringify(nicName)} is already the name of nics[${first}]`);
    }
    const vf = nic['vf'];
    if (isRecord(vf) && typeof vf['vfIndex'] === 'number' && typeof vf['numVfs'] === 'number' && vf['vfIndex'] >= vf['numVfs']) {
      report([...at, index, 'vf', 'vfIndex'], `must be below numVfs (${vf['numVfs']}), got ${vf['vfIndex']}`);
    }
  });
}

function checkPairs(pairs: unknown, hosts: Record<string, unknown>, report: HostContext['report']): void {
  if (!Array.isArray(pairs)) return;
  const names = Object.keys(hosts);
  const firstIndexByName = new Map<string, number>();
  pairs.forEach((pair, index) => {
    if (!isRecord(pair)) return;
    const pairName = pair['name'];
    if (typeof pairName === 'string') {
      const first = firstIndexByName.get(pairName);
      if (first === undefined) firstIndexByName.set(pairName, index);
      else report(['pairs', index, 'name'], `${JSON.stringify(pairName)} is already the name of pairs[${first}]`);
    }
    for (const role of ['source', 'destination']) {
      const hostName = pair[role];
      if (typeof hostName === 'string' && !(hostName in hosts)) {
        // The pair's other host is never the one meant: suggesting it would make source == destination.
        const other = pair[role === 'source' ? 'destination' : 'source'];
        const candidates = names.filter((name) => name !== other);
        report(['pairs', index, role], `must name a host in hosts (${names.join(', ')}), got ${JSON.stringify(hostName)}${didYouMean(hostName, candidates)}`);
      }
    }
    if (typeof pair['source'] === 'string' && pair['source'] === pair['destination']) {
      report(['pairs', index, 'destination'], `must be another host than source, got ${JSON.stringify(pair['destination'])} for both`);
    }
  });
}

/** A chain of jump hosts that comes back to where it started; reported once, on its first name. */
function checkJumpLoops(hosts: Record<string, unknown>, problems: LabProblems): void {
  const jumpOf = (name: string): string | undefined => {
    const host = hosts[name];
    const jump = isRecord(host) ? host['jump'] : undefined;
    return typeof jump === 'string' && jump in hosts ? jump : undefined;
  };
  for (const start of Object.keys(hosts).sort()) {
    const chain = [start];
    let next = jumpOf(start);
    while (next !== undefined && next !== start && !chain.includes(next)) {
      chain.push(next);
      next = jumpOf(next);
    }
    const isLoop = next === start && chain.length > 1;
    if (isLoop && chain.every((member) => member >= start)) {
      problems.atValue(['hosts', start, 'jump'], `makes a loop: ${[...chain, start].join(' -> ')}`);
    }
  }
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const suggestion = closestMatch(word, candidates);
  return suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
}
