// The layer rules of ARCHITECTURE.md, at error level. Each rule names the layer and what it may not reach.
const nodeBuiltins = { dependencyTypes: ['core'] }
const npmPackages = { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] }

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'shared/domain imports shared/domain only: no Node, no DOM, no packages, no other layer.',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: { pathNot: '^shared/domain/' },
    },
    {
      name: 'contract-imports-domain-and-zod',
      comment: 'shared/contract may use shared/domain and zod, nothing else.',
      severity: 'error',
      from: { path: '^shared/contract/' },
      to: { pathNot: ['^shared/(contract|domain)/', '^node_modules/zod/'] },
    },
    {
      name: 'wire-imports-domain-and-codec-runtime',
      comment: 'shared/wire holds wire codecs (Sparkplug B protobuf) used by the core, the simulator and the screen: shared/domain and the protobuf runtime only.',
      severity: 'error',
      from: { path: '^shared/wire/' },
      to: { pathNot: ['^shared/(wire|domain)/', '^node_modules/@bufbuild/protobuf/'] },
    },
    {
      name: 'core-never-electron',
      comment: 'electron/core runs in both hosts: it never imports electron, the renderer or a host.',
      severity: 'error',
      from: { path: '^electron/core/' },
      to: { path: ['^node_modules/electron/', '^electron/(main|preload|server)/', '^renderer/'] },
    },
    {
      name: 'core-no-electron-module',
      severity: 'error',
      from: { path: '^electron/core/' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'unknown', 'undetermined'], path: '^electron$' },
    },
    {
      name: 'core-reaches-simulator-only-for-the-demo',
      comment: 'The demo fleet runs the simulator inside the console; nothing else in the core may lean on it.',
      severity: 'error',
      from: { path: '^electron/core/', pathNot: '^electron/core/fleet/demo-fleet\\.ts$' },
      to: { path: '^simulator/' },
    },
    {
      name: 'main-uses-core-and-contract',
      comment: 'electron/main is thin: it wires electron/core and the contract into windows and IPC.',
      severity: 'error',
      from: { path: '^electron/main/' },
      to: { path: ['^electron/(preload|server)/', '^renderer/', '^simulator/'] },
    },
    {
      name: 'preload-channels-only',
      comment: 'The preload may know the contract channel list and nothing else of the app.',
      severity: 'error',
      from: { path: '^electron/preload/' },
      to: { path: ['^electron/(core|main|server)/', '^renderer/', '^shared/domain/', '^shared/contract/(?!channels)'] },
    },
    {
      name: 'server-uses-core-and-shared',
      severity: 'error',
      from: { path: '^electron/server/' },
      to: { path: ['^electron/(main|preload)/', '^renderer/', '^node_modules/electron/'] },
    },
    {
      name: 'renderer-is-a-web-page',
      comment: 'The renderer never imports electron/*, Node modules, or the simulator.',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: ['^electron/', '^simulator/', '^node_modules/electron/'] },
    },
    {
      name: 'renderer-no-node-builtins',
      severity: 'error',
      from: { path: '^renderer/' },
      to: nodeBuiltins,
    },
    {
      name: 'shared-no-node-builtins',
      severity: 'error',
      from: { path: '^shared/' },
      to: nodeBuiltins,
    },
    {
      name: 'domain-no-packages',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: npmPackages,
    },
    {
      name: 'simulator-is-the-other-end',
      comment: 'The simulator speaks the wire formats from shared/ and knows nothing of the console.',
      severity: 'error',
      from: { path: '^simulator/' },
      to: { path: ['^electron/', '^renderer/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      // Slices import the store's types and the store composes the slices: types only, erased at build.
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^out/'] },
    tsConfig: { fileName: 'tsconfig.node.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts', '.d.mts', '.json'] },
  },
}
