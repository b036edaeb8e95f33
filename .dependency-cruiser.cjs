/**
 * The layering of the harness, checked by dependency-cruiser in the unit stage
 * (test/layers.test.ts) and alone with `npm run lint:layers`.
 *
 * A run's data flows config -> ssh -> host -> qemu -> qmp/console -> migration -> measure/assert
 * -> report. A folder may import its own folder, the folders of LOWER layers and the harness root
 * (errors.ts, shell.ts, runner.ts, waitFor.ts, ...: the bottom). Folders that share a layer are
 * peers and import neither each other. Since every import points down, no two folders can import
 * each other: a folder cycle is a back edge by construction.
 *
 * Where the order departs from the data-flow chain, or places a folder the chain does not name:
 * - qmp and console sit BELOW qemu. They are transports into a running VM that know nothing of
 *   how it was started; qemu/QemuProcess owns the QMP connection of the process it starts, so
 *   qemu uses qmp. In a run the VM is launched first and talked to second, but the module that
 *   knows less is the lower one.
 * - virtual-lab and nested-lab provide the hosts: images, networks and L1 VMs built with local
 *   commands, SSH and QMP. They know nothing of VM specs or migrations, so they sit below qemu;
 *   nested-lab builds on virtual-lab's pieces, so it is the higher of the two. qemu/builds fetches
 *   its base sources through the controller's apt mirror that nested-lab also uses. The link
 *   control the virtual lab implements (host/LinkControl) is declared with the hosts.
 * - qemu/builds belongs to qemu. The identity of a build (what lab.yaml asks for, with its patch
 *   hashes: config/QemuBuildIdentity, config/buildPlan) is derived from the config alone and
 *   lives in config/, because host preflight records it among the host's facts.
 * - migration owns its record, and the figures computed from the record alone when it ends
 *   (computeMeasurements, outageBreakdown); it asks the probe beside it through MigrationProbe.
 *   measure keeps what produces data alongside a migration (ProbeStream) and what summarises many
 *   (statistics, bootstrap).
 * - guest actions are phase hooks of a migration (domain switch loop, bind, reset) driven through
 *   the console, so guest is a peer of measure and assert, above migration.
 * - session (LabSession, LabVm, diagnosis) puts the layers together for one test and writes what
 *   the report reads, so it sits above report; the diagnosis a report stores is declared in
 *   report/Diagnosis.
 * - mocha wires sessions into mocha's root hooks and reporter; bugs builds bug-reproduction tests
 *   on mocha's context; cli drives everything and is the top.
 *
 * Unit and lab tests (*.test.ts) are exempt from the layer rules: nothing imports a test, so a test
 * cannot close a cycle, and a test beside a low module may drive it through a higher one (a lab
 * test of the host lease runs the CLI).
 *
 * Outside harness/: suites and bench may import any of harness/ (they are its users); nothing in
 * harness/ imports suites/, bench/ or bin/. Shipped modules (harness/, suites/, bin/) import
 * neither test/ nor a devDependency: the package is installed without either. Tests beside their
 * module may import both; they run only in the project's own test stages. mocha and chai are
 * run-time dependencies: `hil run` loads the suites through mocha's API and the suites use chai.
 *
 * Cycles are checked module by module as well (no-circular), `import type` included: two modules
 * that need each other's declarations are one concept split in two, or share a type that belongs
 * to neither.
 */

/** Bottom first. Each entry is one layer; a layer with several folders lists peers. */
const layers = [
  ['config'],
  ['ssh'],
  ['host'],
  ['qmp', 'console'],
  ['virtual-lab'],
  ['nested-lab'],
  ['qemu'],
  ['migration'],
  ['measure', 'assert', 'guest'],
  ['report'],
  ['session'],
  ['mocha'],
  ['bugs'],
  ['cli'],
];

const folderPath = (folders) => `^harness/(${folders.join('|')})/`;
const testFile = '\\.test\\.ts$';

const layerRules = layers.flatMap((folders, rank) => {
  const above = layers.slice(rank + 1).flat();
  const rules = [];
  if (above.length > 0) {
    rules.push({
      name: `layer-${folders.join('+')}`,
      comment: `${folders.join(', ')} may import only lower layers (${layers.slice(0, rank).flat().join(', ') || 'the harness root'}), not ${above.join(', ')}`,
      severity: 'error',
      from: { path: folderPath(folders), pathNot: testFile },
      to: { path: folderPath(above) },
    });
  }
  for (const folder of folders) {
    const peers = folders.filter((other) => other !== folder);
    if (peers.length === 0) continue;
    rules.push({
      name: `peers-${folder}`,
      comment: `${folder} shares its layer with ${peers.join(', ')}: peers import neither each other`,
      severity: 'error',
      from: { path: folderPath([folder]), pathNot: testFile },
      to: { path: folderPath(peers) },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'root-is-bottom',
      comment: 'the harness root (errors, shell, runner, waitFor, ...) is the bottom layer: it imports no harness folder',
      severity: 'error',
      from: { path: '^harness/[^/]+$' },
      to: { path: '^harness/[^/]+/' },
    },
    ...layerRules,
    {
      name: 'harness-not-its-users',
      comment: 'suites, bench and bin use the harness; the harness never imports them (test/: see shipped-not-test-support)',
      severity: 'error',
      from: { path: '^harness/' },
      to: { path: '^(suites|bench|bin)/' },
    },
    {
      name: 'suites-not-bench',
      comment: 'suites ship and run on a lab; bench scripts do not ship',
      severity: 'error',
      from: { path: '^suites/' },
      to: { path: '^bench/' },
    },
    {
      name: 'shipped-not-test-support',
      comment: 'test support lives under test/ and does not ship: a shipped module importing it would break the package',
      severity: 'error',
      from: { path: '^(harness|suites|bin)/', pathNot: testFile },
      to: { path: '^test/' },
    },
    {
      name: 'shipped-not-dev-dependency',
      comment: 'a shipped module that imports a devDependency fails where the package is installed without them',
      severity: 'error',
      from: { path: '^(harness|suites|bin)/', pathNot: testFile },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-circular',
      comment: 'modules that import each other cannot be read, tested or moved one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import the checker cannot resolve is an import it cannot check',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The fixture tree breaks the rules on purpose, to show the check can fail.
    exclude: { path: '^(dist|test/fixtures/layers)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
