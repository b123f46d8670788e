import { applyDiff } from '../../../shared/domain'
import type { Health, ServiceName, ServiceState, StreamDiff } from '../../../shared/contract'
import type { Slice } from '../state/store'

export interface SystemSlice {
  health: Health | null
  services: Partial<Record<ServiceName, ServiceState>>
  loadHealth(): Promise<void>
  applyServices(diff: StreamDiff<ServiceState>): void
}

export const createSystemSlice: Slice<SystemSlice> = (bridge) => (set) => ({
  health: null,
  services: {},
  loadHealth: async () => {
    const health = await bridge.call('system.health')
    set({ health, services: health.services })
  },
  applyServices: (diff) => set((state) => ({ services: applyDiff(state.services as Record<string, ServiceState>, diff) })),
})
