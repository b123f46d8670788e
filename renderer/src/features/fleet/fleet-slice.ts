import type { DemoFault, DeviceDetail, FleetRow, SeriesPoints, StreamDiff } from '../../../../shared/contract'
import { BridgeError } from '../../bridge'
import type { Slice } from '../../state/store'
import { mergeFleetDiff, type FleetQuery, type FleetRows, type SortColumn, type StateFilter } from './fleet-model'

export const seriesRanges = {
  '15m': { label: '15 min', ms: 15 * 60_000 },
  '1h': { label: '1 h', ms: 3600_000 },
  '24h': { label: '24 h', ms: 86_400_000 },
  '7d': { label: '7 d', ms: 7 * 86_400_000 },
} as const
export type SeriesRange = keyof typeof seriesRanges

/** The device view: what `fleet.device` last answered for the open key. */
export interface FleetDeviceView {
  key: string
  detail: DeviceDetail | null
  error: string | null
}

export interface FleetSeriesView {
  key: string
  metric: string
  range: SeriesRange
  points: SeriesPoints | null
  /** The end of the range asked for, so the chart's x axis ends at "now" even with no samples. */
  to: number
  error: string | null
}

export type CommandOutcome = { ok: true; text: string } | { ok: false; text: string }

export interface FleetSlice {
  fleetRows: FleetRows
  /** Set when the connection (re)opens: the next push is the core's whole fleet, not a change. */
  fleetAwaitingSnapshot: boolean
  fleetSelected: string | null
  fleetQuery: FleetQuery
  fleetDevice: FleetDeviceView | null
  fleetSeries: FleetSeriesView | null
  receiveFleet(diff: StreamDiff<FleetRow>): void
  expectFleetSnapshot(): void
  selectFleetRow(key: string | null): void
  setFleetText(text: string): void
  setFleetStateFilter(state: StateFilter): void
  setFleetGroup(group: string): void
  sortFleet(column: SortColumn): void
  openFleetDevice(key: string): void
  closeFleetDevice(): void
  refreshFleetDevice(): Promise<void>
  showFleetSeries(metric: string, range: SeriesRange): Promise<void>
  refreshFleetSeries(): Promise<void>
  requestRebirth(nodeKey: string): Promise<CommandOutcome>
  writeMetric(key: string, metric: string, value: number | boolean | string): Promise<CommandOutcome>
  playDemoFault(nodeKey: string, fault: DemoFault): Promise<CommandOutcome>
}

/** Counts and times read best largest first; names read best A to Z. */
const descendingFirst: ReadonlySet<SortColumn> = new Set(['reboots24h', 'protocolErrors', 'lastSeen'])

const chartPoints = 800

export const createFleetSlice: Slice<FleetSlice> = (bridge) => (set, get) => {
  // One `fleet.device` call at a time: a slow host must not pile up refreshes every 2 s.
  let deviceInFlight: Promise<void> | null = null
  let deviceAgain = false

  const fetchDevice = async (key: string): Promise<void> => {
    try {
      const detail = await bridge.call('fleet.device', { key })
      if (get().fleetDevice?.key === key) set({ fleetDevice: { key, detail, error: null } })
    } catch (error) {
      const current = get().fleetDevice
      if (current?.key === key) set({ fleetDevice: { ...current, error: messageOf(error) } })
    }
  }

  const fetchSeries = async (key: string, metric: string, range: SeriesRange): Promise<void> => {
    const to = Date.now()
    const from = to - seriesRanges[range].ms
    const isCurrent = () => {
      const shown = get().fleetSeries
      return shown !== null && shown.key === key && shown.metric === metric && shown.range === range
    }
    try {
      const points = await bridge.call('fleet.series', { key, metric, from, to, maxPoints: chartPoints })
      if (isCurrent()) set({ fleetSeries: { key, metric, range, points, to, error: null } })
    } catch (error) {
      const shown = get().fleetSeries
      if (shown && isCurrent()) set({ fleetSeries: { ...shown, error: messageOf(error) } })
    }
  }

  return {
    fleetRows: {},
    fleetAwaitingSnapshot: true,
    fleetSelected: null,
    fleetQuery: { text: '', state: 'all', group: '', sort: { column: 'group', direction: 'ascending' } },
    fleetDevice: null,
    fleetSeries: null,

    receiveFleet: (diff) => {
      const state = get()
      const rows = mergeFleetDiff(state.fleetRows, diff, state.fleetAwaitingSnapshot)
      if (rows !== state.fleetRows || state.fleetAwaitingSnapshot) set({ fleetRows: rows, fleetAwaitingSnapshot: false })
    },
    expectFleetSnapshot: () => set({ fleetAwaitingSnapshot: true }),

    selectFleetRow: (key) => set({ fleetSelected: key }),
    setFleetText: (text) => set((state) => ({ fleetQuery: { ...state.fleetQuery, text } })),
    setFleetStateFilter: (filter) => set((state) => ({ fleetQuery: { ...state.fleetQuery, state: filter } })),
    setFleetGroup: (group) => set((state) => ({ fleetQuery: { ...state.fleetQuery, group } })),
    sortFleet: (column) =>
      set((state) => {
        const sort = state.fleetQuery.sort
        const direction =
          sort.column === column ? (sort.direction === 'ascending' ? 'descending' : 'ascending')
          : descendingFirst.has(column) ? 'descending'
          : 'ascending'
        return { fleetQuery: { ...state.fleetQuery, sort: { column, direction } } }
      }),

    openFleetDevice: (key) => {
      set({ fleetSelected: key, fleetDevice: { key, detail: null, error: null }, fleetSeries: null })
      void get().refreshFleetDevice()
    },
    closeFleetDevice: () => set({ fleetDevice: null, fleetSeries: null }),
    refreshFleetDevice: async () => {
      if (deviceInFlight) {
        deviceAgain = true
        return deviceInFlight
      }
      const run = async () => {
        do {
          deviceAgain = false
          const key = get().fleetDevice?.key
          if (!key) return
          await fetchDevice(key)
        } while (deviceAgain)
      }
      deviceInFlight = run().finally(() => {
        deviceInFlight = null
      })
      return deviceInFlight
    },

    showFleetSeries: async (metric, range) => {
      const key = get().fleetDevice?.key
      if (!key) return
      const shown = get().fleetSeries
      // Keep the old line on screen while the new range loads only if it is the same metric.
      const keep = shown && shown.key === key && shown.metric === metric ? shown.points : null
      set({ fleetSeries: { key, metric, range, points: keep, to: Date.now(), error: null } })
      await fetchSeries(key, metric, range)
    },
    refreshFleetSeries: async () => {
      const shown = get().fleetSeries
      if (shown) await fetchSeries(shown.key, shown.metric, shown.range)
    },

    requestRebirth: async (nodeKey) => {
      try {
        const { requested } = await bridge.call('fleet.rebirth', { key: nodeKey })
        void get().refreshFleetDevice()
        return requested
          ? { ok: true, text: `Rebirth requested from ${nodeKey}. Its births will refresh the metrics below.` }
          : { ok: false, text: `The console did not send the rebirth request to ${nodeKey}.` }
      } catch (error) {
        return { ok: false, text: `Rebirth not sent: ${messageOf(error)}` }
      }
    },
    writeMetric: async (key, metric, value) => {
      try {
        const { sent } = await bridge.call('fleet.write', { key, metric, value })
        void get().refreshFleetDevice()
        return sent
          ? { ok: true, text: `Sent ${metric} = ${String(value)} to ${key}. The new value shows once the device reports it.` }
          : { ok: false, text: `The console did not send ${metric} to ${key}.` }
      } catch (error) {
        return { ok: false, text: `Not sent: ${messageOf(error)}` }
      }
    },
    playDemoFault: async (nodeKey, fault) => {
      try {
        const { injected } = await bridge.call('demo.fault', { key: nodeKey, fault })
        void get().refreshFleetDevice()
        return { ok: true, text: `${nodeKey}: ${injected}. Watch its state and lifecycle below.` }
      } catch (error) {
        return { ok: false, text: `Fault not played: ${messageOf(error)}` }
      }
    },
  }
}

function messageOf(error: unknown): string {
  return error instanceof BridgeError ? error.message : error instanceof Error ? error.message : String(error)
}
