import type { ConnectionState } from '../bridge'
import type { Slice } from '../state/store'
import { sectionFromHash, type SectionId } from './sections'

export interface ShellSlice {
  section: SectionId
  connection: ConnectionState
  hostKind: 'electron' | 'websocket'
  showSection(section: SectionId): void
  setConnection(connection: ConnectionState): void
}

export const createShellSlice: Slice<ShellSlice> = (bridge) => (set) => ({
  section: sectionFromHash(location.hash),
  connection: bridge.connection,
  hostKind: bridge.kind,
  showSection: (section) => {
    // The hash keeps the section across reloads and gives the browser's back button a meaning.
    if (location.hash !== `#/${section}`) history.pushState(null, '', `#/${section}`)
    set({ section })
  },
  setConnection: (connection) => set({ connection }),
})
