// Between the contract's words for a rollout (percents and seconds, what an operator types and reads)
// and the domain's (shares and milliseconds, what the state machine computes with).
import type { GateView, RolloutDeviceRow, RolloutPhaseView, RolloutPreview, RolloutRequest, RolloutStatusName, RolloutSummary } from '../../../shared/contract'
import type { GateResult, PhaseView, Rollout, RolloutDeviceView } from '../../../shared/domain/ota/rollout'
import { previewRollout, requiredExecuted, type HealthGate, type PhaseSpec, type RolloutPlan, type StartRate } from '../../../shared/domain/ota/rollout-plan'

type PhaseRequest = NonNullable<RolloutRequest['phases']>[number]

/** The phases as the domain takes them; fields the operator left out keep the domain's defaults. */
export function phaseSpecs(phases: RolloutRequest['phases']): PhaseSpec[] | undefined {
  return phases?.map((phase) => {
    const common = {
      ...(phase.soakSeconds !== undefined ? { soakMs: phase.soakSeconds * 1000 } : {}),
      ...(phase.gate ? { gate: gateOverrides(phase.gate) } : {}),
      ...(phase.rate ? { rate: rateOverrides(phase.rate) } : {}),
    }
    return phase.kind === 'canary' ? { kind: 'canary', devices: phase.devices, ...common } : { kind: 'percentage', percent: phase.percent, ...common }
  })
}

function gateOverrides(gate: NonNullable<PhaseRequest['gate']>): Partial<HealthGate> {
  return {
    ...(gate.maxFailurePercent !== undefined ? { maxFailureShare: gate.maxFailurePercent / 100 } : {}),
    ...(gate.minExecuted !== undefined ? { minExecuted: gate.minExecuted } : {}),
    ...(gate.maxSilentPercent !== undefined ? { maxSilentShare: gate.maxSilentPercent / 100 } : {}),
    ...(gate.silentAfterSeconds !== undefined ? { silentAfterMs: gate.silentAfterSeconds * 1000 } : {}),
  }
}

function rateOverrides(rate: NonNullable<PhaseRequest['rate']>): Partial<StartRate> {
  return {
    ...(rate.perMinute !== undefined ? { basePerMinute: rate.perMinute } : {}),
    ...(rate.maxPerMinute !== undefined ? { maxPerMinute: rate.maxPerMinute } : {}),
    ...(rate.jitterSeconds !== undefined ? { jitterMs: rate.jitterSeconds * 1000 } : {}),
    ...(rate.maxInFlight !== undefined ? { maxInFlight: rate.maxInFlight } : {}),
  }
}

const percent = (share: number) => Math.round(share * 1000) / 10

export function previewView(plan: RolloutPlan): RolloutPreview {
  return {
    seed: plan.seed,
    image: { version: plan.image.version, chip: plan.image.chip, size: plan.image.size, sha256: plan.image.sha256 },
    targets: plan.targets.length,
    phases: previewRollout(plan).map((phase) => ({
      name: phase.name,
      soakSeconds: Math.round(phase.soakMs / 1000),
      deviceIds: phase.devices.map((d) => d.id),
      byGroup: phase.byGroup,
      byFromVersion: phase.byFromVersion,
      gate: { maxFailurePercent: percent(phase.gate.maxFailureShare), minExecuted: requiredExecuted(phase.gate, phase.devices.length), maxSilentPercent: percent(phase.gate.maxSilentShare) },
    })),
    excluded: plan.excluded.map((e) => ({ deviceId: e.deviceId, reason: e.reason, detail: e.detail })),
  }
}

/** Only the states some device is in: a 1,000-device rollout's summary stays small. */
function nonZero<K extends string>(counts: Readonly<Record<K, number>>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {}
  for (const key of Object.keys(counts) as K[]) if (counts[key] > 0) out[key] = counts[key]
  return out
}

function gateView(gate: GateResult): GateView {
  return {
    passed: gate.passed,
    early: gate.early,
    at: gate.at,
    findings: gate.findings.map((f) => ({ reason: f.reason, detail: f.detail, deviceIds: 'deviceIds' in f ? f.deviceIds : [] })),
    executed: gate.measures.executed,
    succeeded: gate.measures.succeeded,
    failed: gate.measures.failed,
    rolledBack: gate.measures.rolledBack,
  }
}

function phaseView(phase: PhaseView, plan: RolloutPlan): RolloutPhaseView {
  return {
    index: phase.index,
    name: phase.name,
    state: phase.state,
    devices: phase.deviceIds.length,
    counts: nonZero(phase.counts),
    soakSeconds: Math.round(plan.phases[phase.index]!.soakMs / 1000),
    soakStartedAt: phase.soakStartedAt,
    overridden: phase.overridden,
    gate: phase.lastGate ? gateView(phase.lastGate) : null,
  }
}

export interface RolloutRecord {
  id: string
  artifact: string
  fileName: string
  operator: string
  createdAt: number
  updatedAt: number
  detail: string
}

export function summaryView(record: RolloutRecord, rollout: Rollout): RolloutSummary {
  return {
    id: record.id,
    artifact: record.artifact,
    version: rollout.plan.image.version,
    fileName: record.fileName,
    operator: record.operator,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    status: rollout.status satisfies RolloutStatusName,
    pausedBy: rollout.pausedBy,
    detail: record.detail,
    currentPhase: rollout.currentPhase,
    devices: rollout.plan.targets.length,
    counts: nonZero(rollout.counts()),
    phases: rollout.phases().map((phase) => phaseView(phase, rollout.plan)),
    startRate: rollout.startRate(),
  }
}

export function deviceRow(d: RolloutDeviceView): RolloutDeviceRow {
  return {
    id: d.id,
    phase: d.phase,
    state: d.state,
    progress: d.progress,
    attempt: d.attempt,
    reason: d.reason,
    detail: d.detail,
    fromVersion: d.fromVersion,
    firmwareVersion: d.firmwareVersion,
    runningSlot: d.runningSlot,
    online: d.online,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
  }
}
