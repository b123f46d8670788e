import type { AuditEntry, PublicSettings, SettingsPatch } from '../../../../shared/contract'
import { BridgeError } from '../../bridge'
import type { Slice } from '../../state/store'

export interface SettingsSlice {
  settings: PublicSettings | null
  settingsError: string | null
  audit: AuditEntry[]
  loadSettings(): Promise<void>
  saveSettings(patch: SettingsPatch): Promise<boolean>
  loadAudit(): Promise<void>
  receiveSettings(settings: PublicSettings): void
  receiveAudit(entry: AuditEntry): void
}

const auditShown = 50

export const createSettingsSlice: Slice<SettingsSlice> = (bridge) => (set) => ({
  settings: null,
  settingsError: null,
  audit: [],
  loadSettings: async () => {
    set({ settings: await bridge.call('settings.get') })
  },
  saveSettings: async (patch) => {
    try {
      set({ settings: await bridge.call('settings.update', patch), settingsError: null })
      return true
    } catch (error) {
      set({ settingsError: error instanceof BridgeError ? error.message : String(error) })
      return false
    }
  },
  loadAudit: async () => {
    set({ audit: await bridge.call('audit.list', { limit: auditShown }) })
  },
  receiveSettings: (settings) => set({ settings }),
  receiveAudit: (entry) =>
    set((state) => (state.audit.some((e) => e.id === entry.id) ? state : { audit: [entry, ...state.audit].slice(0, auditShown) })),
})
