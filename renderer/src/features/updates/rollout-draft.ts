// The New rollout form as the operator types it (text in fields), and the request it becomes. Pure, so
// what is checked here is tested without a screen; the core checks everything again.
import type { FleetRow, RolloutRequest } from '../../../../shared/contract'
import { defaultHealthGate, defaultPhases, defaultSoakMs, defaultStartRate, type PhaseSpec } from '../../../../shared/domain/ota/rollout-plan'

export type SoakUnit = 's' | 'min' | 'h'
export const soakUnitSeconds: Record<SoakUnit, number> = { s: 1, min: 60, h: 3600 }

/** One row of the phases editor. Numbers stay text until the request is built, so a half-typed field is not lost. */
export interface PhaseDraft {
  key: number
  kind: 'canary' | 'percentage'
  /** Devices of a canary, or the percent of the devices after the canary reached at the end of the phase. */
  size: string
  soak: string
  soakUnit: SoakUnit
  /** Health gate: the phase fails when more than this percent of the devices that ran failed or rolled back. */
  maxFailurePercent: string
  /** Health gate: devices that must have run the update to its end before the gate can pass. */
  minExecuted: string
  /** Start rate (advanced): devices per minute at first, the cap it may grow to, and the random wait before each start. */
  perMinute: string
  maxPerMinute: string
  jitterSeconds: string
}

export interface TargetDraft {
  /** By filter (groups, versions) or devices ticked by hand. */
  mode: 'filter' | 'hand'
  /** None ticked: every group. */
  groups: readonly string[]
  /** None ticked: every version. */
  versions: readonly string[]
  onlineOnly: boolean
  deviceIds: readonly string[]
}

export interface RolloutDraft {
  artifact: string | null
  targets: TargetDraft
  phases: readonly PhaseDraft[]
}

type PhaseRequest = NonNullable<RolloutRequest['phases']>[number]
export type DraftRequest = Omit<RolloutRequest, 'seed'>
export type DraftCheck = { ok: true; request: DraftRequest } | { ok: false; problems: string[] }

let nextKey = 1
const newKey = () => nextKey++

const numberText = (n: number) => String(Math.round(n * 1000) / 1000)

function soakFields(ms: number): Pick<PhaseDraft, 'soak' | 'soakUnit'> {
  const seconds = Math.round(ms / 1000)
  if (seconds >= 3600 && seconds % 3600 === 0) return { soak: String(seconds / 3600), soakUnit: 'h' }
  if (seconds >= 60 && seconds % 60 === 0) return { soak: String(seconds / 60), soakUnit: 'min' }
  return { soak: String(seconds), soakUnit: 's' }
}

/** A row with the console's defaults for its kind: what the core would use if the field were left out. */
export function phaseDraft(spec: PhaseSpec): PhaseDraft {
  const soakMs = spec.soakMs ?? defaultSoakMs[spec.kind]
  const gate = { ...defaultHealthGate, ...spec.gate }
  const rate = { ...defaultStartRate, ...spec.rate }
  return {
    key: newKey(),
    kind: spec.kind,
    size: spec.kind === 'canary' ? String(spec.devices) : numberText(spec.percent),
    ...soakFields(soakMs),
    maxFailurePercent: numberText(gate.maxFailureShare * 100),
    minExecuted: String(gate.minExecuted),
    perMinute: numberText(rate.basePerMinute),
    maxPerMinute: numberText(rate.maxPerMinute),
    jitterSeconds: numberText(rate.jitterMs / 1000),
  }
}

/** A canary of 3, then 5%, 25% and 100%, each with the console's soak, gate and start rate. */
export function defaultPhaseDrafts(): PhaseDraft[] {
  return defaultPhases.map(phaseDraft)
}

export function newRolloutDraft(artifact: string | null = null): RolloutDraft {
  return { artifact, targets: { mode: 'filter', groups: [], versions: [], onlineOnly: false, deviceIds: [] }, phases: defaultPhaseDrafts() }
}

/**
 * Adds a percentage phase. The last phase must reach 100%, so when it already does the new one goes
 * before it, halfway between the phase before and 100%; otherwise a 100% phase is appended.
 */
export function addPhase(phases: readonly PhaseDraft[]): readonly PhaseDraft[] {
  const last = phases[phases.length - 1]
  if (!last) return [phaseDraft({ kind: 'canary', devices: 3 })]
  // The new phase starts as fast and soaks as long as its neighbour: an operator who shortened them meant it.
  const like = (row: PhaseDraft, model: PhaseDraft): PhaseDraft => ({ ...row, soak: model.soak, soakUnit: model.soakUnit, perMinute: model.perMinute, maxPerMinute: model.maxPerMinute, jitterSeconds: model.jitterSeconds })
  if (last.kind === 'percentage' && Number(last.size) === 100) {
    const before = phases[phases.length - 2]
    const from = before?.kind === 'percentage' && Number.isFinite(Number(before.size)) ? Number(before.size) : 0
    const percent = Math.max(0.1, Math.round((from + 100) / 2))
    if (percent > from && percent < 100) return [...phases.slice(0, -1), like(phaseDraft({ kind: 'percentage', percent }), last), last]
  }
  return [...phases, like(phaseDraft({ kind: 'percentage', percent: 100 }), last)]
}

export function removePhase(phases: readonly PhaseDraft[], key: number): readonly PhaseDraft[] {
  return phases.length <= 1 ? phases : phases.filter((phase) => phase.key !== key)
}

export function editPhase(phases: readonly PhaseDraft[], key: number, change: Partial<Omit<PhaseDraft, 'key'>>): readonly PhaseDraft[] {
  return phases.map((phase) => {
    if (phase.key !== key) return phase
    const next = { ...phase, ...change }
    // Switching kind keeps the field meaningful: a canary counts devices, a percentage is a share.
    if (change.kind && change.kind !== phase.kind && change.size === undefined) next.size = change.kind === 'canary' ? '3' : '100'
    return next
  })
}

export function phaseLabel(phase: Pick<PhaseDraft, 'kind' | 'size'>, index: number): string {
  return phase.kind === 'canary' ? 'Canary' : phase.size.trim() ? `${phase.size.trim()}%` : `Phase ${index + 1}`
}

/** Adds or removes one value of a ticked list, keeping it sorted so the request (and its preview) do not depend on click order. */
export function toggled(list: readonly string[], value: string, on: boolean): readonly string[] {
  const has = list.includes(value)
  if (on === has) return list
  return on ? [...list, value].sort() : list.filter((item) => item !== value)
}

/** The phases as the contract takes them, or every problem with the row it is in. */
export function phasesToRequest(phases: readonly PhaseDraft[]): { ok: true; phases: PhaseRequest[] } | { ok: false; problems: string[] } {
  const problems: string[] = []
  const out: PhaseRequest[] = []
  if (phases.length === 0) problems.push('A rollout needs at least one phase.')
  let lastPercent = 0
  phases.forEach((phase, index) => {
    const name = `Phase ${index + 1} (${phaseLabel(phase, index)})`
    const say = (text: string) => problems.push(`${name}: ${text}`)
    const num = (text: string) => (text.trim() === '' ? NaN : Number(text))

    const size = num(phase.size)
    if (phase.kind === 'canary') {
      if (index !== 0) say('only the first phase may be a canary.')
      if (!Number.isInteger(size) || size < 1 || size > 1000) say('a canary is a whole number of devices, 1 to 1000.')
    } else if (!(size >= 0.1 && size <= 100)) {
      say('the percent is between 0.1 and 100.')
    } else if (!(size > lastPercent)) {
      say(`percentages must rise from phase to phase (${size}% after ${lastPercent}%).`)
    } else {
      lastPercent = size
    }

    const soakValue = num(phase.soak)
    const soakSeconds = Math.round(soakValue * soakUnitSeconds[phase.soakUnit])
    if (!(soakValue >= 0) || soakSeconds > 7 * 86_400) say('the soak time is 0 to 7 days.')

    const maxFailurePercent = num(phase.maxFailurePercent)
    if (!(maxFailurePercent >= 0 && maxFailurePercent <= 100)) say('the health gate’s maximum failure is 0 to 100%.')
    const minExecuted = num(phase.minExecuted)
    if (!Number.isInteger(minExecuted) || minExecuted < 0 || minExecuted > 10_000) say('the health gate’s minimum executed is a whole number of devices, 0 to 10000.')

    const perMinute = num(phase.perMinute)
    const maxPerMinute = num(phase.maxPerMinute)
    const jitterSeconds = num(phase.jitterSeconds)
    if (!(perMinute >= 0.1 && perMinute <= 10_000)) say('the start rate is 0.1 to 10000 devices a minute.')
    if (!(maxPerMinute >= 0.1 && maxPerMinute <= 10_000)) say('the start rate’s cap is 0.1 to 10000 devices a minute.')
    else if (perMinute > maxPerMinute) say(`the start rate (${perMinute}/min) is above its cap (${maxPerMinute}/min); raise the cap too.`)
    if (!(jitterSeconds >= 0 && jitterSeconds <= 3600)) say('the jitter is 0 to 3600 seconds.')

    const common = {
      soakSeconds,
      gate: { maxFailurePercent, minExecuted },
      rate: { perMinute, maxPerMinute, jitterSeconds },
    }
    out.push(phase.kind === 'canary' ? { kind: 'canary', devices: size, ...common } : { kind: 'percentage', percent: size, ...common })
  })
  // A rollout whose last phase stops short of everyone would never complete.
  if (phases.some((phase) => phase.kind === 'percentage') && lastPercent !== 100 && problems.length === 0) problems.push(`The last phase must reach 100% (it stops at ${lastPercent}%).`)
  return problems.length > 0 ? { ok: false, problems } : { ok: true, phases: out }
}

export function selectionToRequest(targets: TargetDraft): { ok: true; selection: RolloutRequest['selection'] } | { ok: false; problems: string[] } {
  if (targets.mode === 'hand') {
    if (targets.deviceIds.length === 0) return { ok: false, problems: ['Tick at least one edge node, or choose devices by filter.'] }
    return { ok: true, selection: { deviceIds: [...targets.deviceIds], ...(targets.onlineOnly ? { onlineOnly: true } : {}) } }
  }
  return {
    ok: true,
    selection: {
      ...(targets.groups.length > 0 ? { groups: [...targets.groups] } : {}),
      ...(targets.versions.length > 0 ? { versions: [...targets.versions] } : {}),
      ...(targets.onlineOnly ? { onlineOnly: true } : {}),
    },
  }
}

/** The request Preview and Start send (Start adds the preview's seed), or everything to fix first. */
export function draftToRequest(draft: RolloutDraft): DraftCheck {
  const problems: string[] = []
  if (!draft.artifact) problems.push('Choose the image to roll out.')
  const selection = selectionToRequest(draft.targets)
  if (!selection.ok) problems.push(...selection.problems)
  const phases = phasesToRequest(draft.phases)
  if (!phases.ok) problems.push(...phases.problems)
  if (problems.length > 0 || !selection.ok || !phases.ok || !draft.artifact) return { ok: false, problems }
  return { ok: true, request: { artifact: draft.artifact, selection: selection.selection, phases: phases.phases } }
}

/** Same text, same request: a preview is the plan of the form as it stands only while this matches. */
export function requestKey(request: DraftRequest): string {
  return JSON.stringify(request)
}

// ---- the fleet as the targets picker shows it ---------------------------------------------------------

export interface TargetChoices {
  /** Edge nodes (the OTA target: the node's own application), sorted by key. */
  nodes: FleetRow[]
  groups: { name: string; nodes: number }[]
  versions: { name: string; nodes: number }[]
}

export function targetChoices(rows: Readonly<Record<string, FleetRow>>): TargetChoices {
  const nodes = Object.values(rows)
    .filter((row) => row.kind === 'node')
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const count = (names: string[]) => {
    const counts = new Map<string, number>()
    for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1)
    return [...counts].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })).map(([name, n]) => ({ name, nodes: n }))
  }
  return { nodes, groups: count(nodes.map((n) => n.group)), versions: count(nodes.map((n) => n.firmware).filter((v) => v !== '')) }
}

/**
 * Edge nodes the targets pick as the fleet stands on screen: a guide while choosing. The preview is
 * the console's answer, with the devices it leaves out (wrong chip, already on the version) and why.
 */
export function matchingNodes(nodes: readonly FleetRow[], targets: TargetDraft): FleetRow[] {
  return nodes.filter((node) => {
    if (targets.onlineOnly && node.state !== 'online') return false
    if (targets.mode === 'hand') return targets.deviceIds.includes(node.key)
    if (targets.groups.length > 0 && !targets.groups.includes(node.group)) return false
    if (targets.versions.length > 0 && !targets.versions.includes(node.firmware)) return false
    return true
  })
}

/** Ticks that no longer name anything on screen are kept (the core refuses unknown ids with their names), but counted. */
export function unknownPicks(nodes: readonly FleetRow[], deviceIds: readonly string[]): string[] {
  const known = new Set(nodes.map((n) => n.key))
  return deviceIds.filter((id) => !known.has(id))
}
