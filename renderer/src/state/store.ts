import { createContext, useContext } from 'react'
import { createStore, useStore, type StateCreator, type StoreApi } from 'zustand'
import type { Bridge } from '../bridge'
import { createBenchSlice, type BenchSlice } from '../features/bench/bench-slice'
import { createFleetSlice, type FleetSlice } from '../features/fleet/fleet-slice'
import { createSettingsSlice, type SettingsSlice } from '../features/settings/settings-slice'
import { createPlanSlice, type SitePlanSlice } from '../features/site/plan-slice'
import { createSiteSlice, type SiteSlice } from '../features/site/site-slice'
import { createUpdatesSlice, type UpdatesSlice } from '../features/updates/updates-slice'
import { createShellSlice, type ShellSlice } from '../shell/shell-slice'
import { createSystemSlice, type SystemSlice } from '../shell/system-slice'

export type ConsoleState = ShellSlice & SystemSlice & SettingsSlice & FleetSlice & BenchSlice & SiteSlice & SitePlanSlice & UpdatesSlice

/** Each slice gets the whole store's set/get and the bridge its actions call. */
export type Slice<T> = (bridge: Bridge) => StateCreator<ConsoleState, [], [], T>

export type ConsoleStore = StoreApi<ConsoleState>

export function createConsoleStore(bridge: Bridge): ConsoleStore {
  return createStore<ConsoleState>()((...a) => ({
    ...createShellSlice(bridge)(...a),
    ...createSystemSlice(bridge)(...a),
    ...createSettingsSlice(bridge)(...a),
    ...createFleetSlice(bridge)(...a),
    ...createBenchSlice(bridge)(...a),
    ...createSiteSlice(bridge)(...a),
    ...createPlanSlice(bridge)(...a),
    ...createUpdatesSlice(bridge)(...a),
  }))
}

export const StoreContext = createContext<ConsoleStore | null>(null)

/** Always select: components re-render only when what they read changes. */
export function useConsole<T>(selector: (state: ConsoleState) => T): T {
  const store = useContext(StoreContext)
  if (!store) throw new Error('useConsole outside <StoreContext.Provider>')
  return useStore(store, selector)
}
