import { basename } from 'node:path';

/**
 * modules.dep, as depmod writes it: "kernel/drivers/net/virtio_net.ko: kernel/net/core/failover.ko ..."
 * (paths relative to /lib/modules/<version>; every dependency of a module is listed, transitively).
 * Debian's kernel package does not ship modules.dep (its postinst runs depmod), so the guest
 * image builder runs `depmod -b` on the extracted tree first.
 */
export interface ModulesDep {
  /** Module name (underscores) → its file and the files it needs. */
  readonly modules: ReadonlyMap<string, { readonly path: string; readonly deps: readonly string[] }>;
}

/** "vfio-pci.ko.xz" → "vfio_pci": the kernel treats '-' and '_' in module names alike. */
export function moduleNameOf(path: string): string {
  return basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

export function parseModulesDep(text: string): ModulesDep {
  const modules = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter((d) => d !== '');
    modules.set(moduleNameOf(path), { path, deps });
  }
  return { modules };
}

/** modules.builtin: one path per line of modules compiled into the kernel. */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').map((l) => l.trim()).filter((l) => l !== '').map(moduleNameOf));
}

export interface ModuleSelection {
  /** Module files (relative paths) in the order insmod must load them: dependencies first. */
  readonly loadOrder: readonly string[];
  /** Wanted modules compiled into the kernel: nothing to load. */
  readonly builtIn: readonly string[];
  /** Wanted modules this kernel has neither as a module nor built in. */
  readonly missing: readonly string[];
}

/**
 * The files to load for `wanted`, each after everything it depends on. A module listed in
 * modules.dep but whose dependency is absent from it would be a broken depmod run, so that
 * dependency is loaded by path anyway and insmod reports the problem in the guest.
 */
export function selectModules(dep: ModulesDep, builtin: ReadonlySet<string>, wanted: readonly string[]): ModuleSelection {
  const byPath = new Map<string, readonly string[]>();
  for (const entry of dep.modules.values()) byPath.set(entry.path, entry.deps);
  const loadOrder: string[] = [];
  const visited = new Set<string>();
  const visit = (path: string): void => {
    if (visited.has(path)) return;
    visited.add(path);
    for (const depPath of byPath.get(path) ?? []) visit(depPath);
    loadOrder.push(path);
  };
  const builtIn: string[] = [];
  const missing: string[] = [];
  for (const name of wanted.map(moduleNameOf)) {
    const entry = dep.modules.get(name);
    if (entry !== undefined) visit(entry.path);
    else if (builtin.has(name)) builtIn.push(name);
    else missing.push(name);
  }
  return { loadOrder, builtIn, missing };
}
