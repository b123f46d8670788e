import type { AuditEntry, PublicSettings, SettingsPatch } from '../../../../shared/contract'
import { BridgeError } from '../../bridge'
import type { Slice } from '../../state/store'

export interface SettingsSlice {
  settings: PublicSettings | null
  audit: AuditEntry[]
  loadSettings(): Promise<void>
  /** true when saved, else the reason in words. */
  saveSettings(patch: SettingsPatch): Promise<true | string>
  loadAudit(): Promise<void>
  receiveSettings(settings: PublicSettings): void
  receiveAudit(entry: AuditEntry): void
}

const auditShown = 50

export const createSettingsSlice: Slice<SettingsSlice> = (bridge) => (set) => ({
  settings: null,
  audit: [],
  loadSettings: async () => {
    set({ settings: await bridge.call('settings.get') })
  },
  saveSettings: async (patch) => {
    try {
      set({ settings: await bridge.call('settings.update', patch) })
      return true
    } catch (error) {
      return error instanceof BridgeError ? error.message : String(error)
    }
  },
  loadAudit: async () => {
    set({ audit: await bridge.call('audit.list', { limit: auditShown }) })
  },
  receiveSettings: (settings) => set({ settings }),
  receiveAudit: (entry) =>
    set((state) => (state.audit.some((e) => e.id === entry.id) ? state : { audit: [entry, ...state.audit].slice(0, auditShown) })),
})
