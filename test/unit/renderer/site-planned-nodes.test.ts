// The site plan's nodes on their way to the fleet: which the bench should flash next, and which the
// fleet is still waiting for.

import { describe, expect, it } from 'vitest'
import type { FleetRow, FlashJobRow, PlannedDeviceRow, SiteOutputs } from '../../../shared/contract'
import { nextPlannedIds, plannedBoards, plannedNodes, plannedSummary } from '../../../renderer/src/features/site/planned-nodes'

function device(id: string, kind: PlannedDeviceRow['kind']): PlannedDeviceRow {
  return { id, partNumber: kind === 'node' ? 'NODE-E32-WF-BAT' : 'GW-AP24-OUT', partName: '', kind, mountingPointId: `mp-${id}`, x: 0, y: 0, lat: 0, lon: 0, heightM: 3, orientationDeg: 0, zoneIds: [], gatewayId: null, marginDb: null, poeSwitchId: null, averageW: 0.1, batteryLifeDays: null }
}

const outputs = { devices: [device('gw-1', 'gateway'), device('node-1', 'node'), device('node-2', 'node'), device('node-3', 'node'), device('node-4', 'node')] } as SiteOutputs

const fleetRow = (node: string, state: FleetRow['state']): FleetRow => ({ key: `Plant1/${node}`, kind: 'node', group: 'Plant1', node, device: '', state, firmware: '', rssi: null, lastSeen: null, reboots24h: 0, protocolErrors: 0 })
const job = (id: number, serial: string, state: FlashJobRow['state']) => ({ id, serial, state }) as FlashJobRow

describe('planned nodes', () => {
  it('are the plan\'s nodes only: gateways and cameras are bought, not flashed', () => {
    expect(plannedBoards(outputs).map((d) => d.id)).toEqual(['node-1', 'node-2', 'node-3', 'node-4'])
    expect(plannedBoards(null)).toEqual([])
  })

  it('stand where the fleet and the bench say, and the next batch takes the first ones not flashed', () => {
    const nodes = plannedNodes(outputs, { a: fleetRow('node-1', 'online'), b: fleetRow('node-3', 'expected') }, { 1: job(1, 'node-2', 'writing'), 2: job(2, 'node-4', 'failed') })
    expect(nodes.map((n) => [n.row.id, n.status.kind])).toEqual([
      ['node-1', 'in-fleet'],
      ['node-2', 'flashing'],
      ['node-3', 'in-fleet'],
      ['node-4', 'to-flash'],
    ])
    expect(nextPlannedIds(nodes, 3)).toEqual(['node-4'])
    expect(plannedSummary(nodes)).toBe('4 planned nodes: 1 to flash, 1 on the bench, 2 in the fleet (1 online)')
  })

  it('says when the plan has nothing to flash', () => {
    expect(plannedSummary([])).toBe('The site plan has no nodes to flash.')
  })
})
