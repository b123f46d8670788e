// The contract's names alone, with no schema library, so the sandboxed preload can expose exactly
// these channels and nothing else. `methods.ts` and `events.ts` must define each of them: the
// compiler holds the two lists together.
export const methodNames = [
  'system.health',
  'session.whoami',
  'settings.get',
  'settings.update',
  'audit.list',
  'fleet.device',
  'fleet.series',
  'fleet.rebirth',
  'fleet.write',
  'demo.fault',
  'bench.ports',
  'bench.firmware',
  'bench.importFirmware',
  'bench.recipes',
  'bench.saveRecipe',
  'bench.deleteRecipe',
  'bench.flash',
  'bench.cancel',
  'bench.resume',
  'bench.jobs',
  'bench.readBack',
  'bench.nextSeq',
  'site.import',
  'site.current',
  'site.plan',
  'site.savePlan',
  'site.openPlan',
  'site.catalogue',
  'site.saveCatalogue',
  'site.resetCatalogue',
  'site.coverage',
  'site.placement',
  'site.outputs',
  'site.export',
  'ota.importArtifact',
  'ota.artifacts',
  'ota.preview',
  'ota.start',
  'ota.pause',
  'ota.resume',
  'ota.abort',
  'ota.rollouts',
  'ota.rollout',
] as const

export const eventNames = ['services', 'settings.changed', 'audit.appended', 'fleet', 'ports', 'bench.jobs', 'ota.rollouts', 'site.changed'] as const

export type MethodName = (typeof methodNames)[number]
export type EventName = (typeof eventNames)[number]

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && (methodNames as readonly string[]).includes(name)
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (eventNames as readonly string[]).includes(name)
}
