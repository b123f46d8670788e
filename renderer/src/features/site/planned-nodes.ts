import type { DeviceState, FleetRow, FlashJobRow, FlashJobState, PlannedDeviceRow, SiteOutputs } from '../../../../shared/contract'

/**
 * Where a planned node is on its way to the fleet: not flashed yet, on the bench now, flashed and
 * expected, or reporting (in whatever state the fleet sees it).
 */
export type PlannedNodeStatus = { kind: 'to-flash' } | { kind: 'flashing'; jobId: number } | { kind: 'in-fleet'; state: DeviceState; key: string }

export interface PlannedNode {
  row: PlannedDeviceRow
  status: PlannedNodeStatus
}

const finished: ReadonlySet<FlashJobState> = new Set(['done', 'failed', 'cancelled'])

/** The plan's own boards: what the bench flashes and names (gateways, cameras and switches are bought, not flashed). */
export function plannedBoards(outputs: SiteOutputs | null): PlannedDeviceRow[] {
  return outputs ? outputs.devices.filter((device) => device.kind === 'node') : []
}

/**
 * Each planned node with where it stands. A node is matched by its id as the edge node id (the bench names
 * a board after it), in any group: the plan does not know which Sparkplug group a site uses.
 */
export function plannedNodes(outputs: SiteOutputs | null, fleet: Readonly<Record<string, FleetRow>>, jobs: Readonly<Record<string, FlashJobRow>>): PlannedNode[] {
  const inFleet = new Map<string, FleetRow>()
  for (const row of Object.values(fleet)) if (row.kind === 'node') inFleet.set(row.node, row)
  const onBench = new Map<string, FlashJobRow>()
  for (const job of Object.values(jobs)) if (!finished.has(job.state)) onBench.set(job.serial, job)
  return plannedBoards(outputs).map((row) => {
    const fleetRow = inFleet.get(row.id)
    if (fleetRow) return { row, status: { kind: 'in-fleet', state: fleetRow.state, key: fleetRow.key } }
    const job = onBench.get(row.id)
    if (job) return { row, status: { kind: 'flashing', jobId: job.id } }
    return { row, status: { kind: 'to-flash' } }
  })
}

/** The ids for the next batch: the first planned nodes not flashed yet, one per port, in plan order. */
export function nextPlannedIds(nodes: readonly PlannedNode[], boards: number): string[] {
  return nodes.filter((node) => node.status.kind === 'to-flash').slice(0, boards).map((node) => node.row.id)
}

/** "12 planned nodes: 3 to flash, 1 on the bench, 8 in the fleet (6 online)". */
export function plannedSummary(nodes: readonly PlannedNode[]): string {
  if (nodes.length === 0) return 'The site plan has no nodes to flash.'
  const count = (kind: PlannedNodeStatus['kind']) => nodes.filter((node) => node.status.kind === kind).length
  const online = nodes.filter((node) => node.status.kind === 'in-fleet' && node.status.state === 'online').length
  const parts = [`${count('to-flash')} to flash`]
  if (count('flashing') > 0) parts.push(`${count('flashing')} on the bench`)
  parts.push(`${count('in-fleet')} in the fleet (${online} online)`)
  return `${nodes.length} planned node${nodes.length === 1 ? '' : 's'}: ${parts.join(', ')}`
}
