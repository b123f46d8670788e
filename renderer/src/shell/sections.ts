export const sectionIds = ['site', 'bench', 'fleet', 'updates', 'alarms', 'settings'] as const
export type SectionId = (typeof sectionIds)[number]

export const sectionLabels: Record<SectionId, string> = {
  site: 'Site',
  bench: 'Bench',
  fleet: 'Fleet',
  updates: 'Updates',
  alarms: 'Alarms',
  settings: 'Settings',
}

export function sectionFromHash(hash: string): SectionId {
  const id = hash.replace(/^#\/?/, '')
  return (sectionIds as readonly string[]).includes(id) ? (id as SectionId) : 'fleet'
}
