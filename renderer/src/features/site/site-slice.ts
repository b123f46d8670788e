import type { SiteVersion } from '../../../../shared/contract'
import { BridgeError } from '../../bridge'
import type { Slice } from '../../state/store'
import { bytesToBase64 } from '../bench/base64'
import { formatBytes } from '../bench/bench-model'
import { maxSiteFileBytes, plural } from './site-model'

/** The last file picked, from the moment it is read to the console's answer. */
export interface SiteImport {
  id: number
  fileName: string
  size: number
  state: 'reading' | 'sending' | 'kept' | 'refused'
  /** Once kept: the version it became. */
  version: number | null
  /** Once refused: the reason, in full. */
  error: string | null
}

/** A request to show one imported feature on the map; `seq` makes a second click on the same row fly again. */
export interface SiteFocus {
  /** Position in `collection.features` (and in `report.imported`). */
  feature: number
  seq: number
}

export interface SiteSlice {
  /** The version on screen: the latest the core has, or the one this screen just imported. */
  site: SiteVersion | null
  /** False until the core first answered `site.current`: "no site yet" is not "not heard yet". */
  siteKnown: boolean
  siteLoadError: string | null
  siteImport: SiteImport | null
  siteFocus: SiteFocus | null

  /** `site.current`; never throws, the error is kept for the screen. */
  loadSite(): Promise<void>
  /** Sends one file as a new version; a refusal leaves the site on screen as it was. */
  importSite(file: File): Promise<void>
  focusSiteFeature(feature: number): void
}

export const createSiteSlice: Slice<SiteSlice> = (bridge) => (set, get) => {
  let importId = 0
  // Bumped by every kept import: a `site.current` answer that left before it must not put the old site back.
  let keptImports = 0
  let focusSeq = 0

  /** Newer versions win, whichever answer arrives last. */
  const show = (site: SiteVersion) =>
    set((state) => (state.site && state.site.version > site.version ? { siteKnown: true } : { site, siteKnown: true, siteLoadError: null, siteFocus: state.site?.version === site.version ? state.siteFocus : null }))

  return {
    site: null,
    siteKnown: false,
    siteLoadError: null,
    siteImport: null,
    siteFocus: null,

    loadSite: async () => {
      const before = keptImports
      try {
        const current = await bridge.call('site.current')
        if (keptImports !== before) return
        if (current) show(current)
        // None on this host (a fresh data folder, or another host after a reconnect): nothing to show.
        else set({ site: null, siteKnown: true, siteLoadError: null, siteFocus: null })
      } catch (error) {
        set({ siteLoadError: siteErrorText(error) })
      }
    },

    importSite: async (file) => {
      const id = ++importId
      const update = (change: Partial<SiteImport>) => set((state) => (state.siteImport?.id === id ? { siteImport: { ...state.siteImport, ...change } } : state))
      set({ siteImport: { id, fileName: file.name, size: file.size, state: 'reading', version: null, error: null } })
      try {
        if (file.size === 0) throw new Error(`${file.name} is empty.`)
        if (file.size > maxSiteFileBytes) throw new Error(`${file.name} is ${formatBytes(file.size)}; a browser can send site files of ${formatBytes(maxSiteFileBytes)} at most. Import it in the desktop console, or split it.`)
        const data = bytesToBase64(new Uint8Array(await file.arrayBuffer()))
        update({ state: 'sending' })
        const site = await bridge.call('site.import', { fileName: file.name, data })
        keptImports++
        show(site)
        update({ state: 'kept', version: site.version })
      } catch (error) {
        update({ state: 'refused', error: siteImportErrorText(file, error) })
      }
    },

    focusSiteFeature: (feature) => {
      const site = get().site
      if (!site || !site.collection.features[feature]) return
      set({ siteFocus: { feature, seq: ++focusSeq } })
    },
  }
}

function siteImportErrorText(file: File, error: unknown): string {
  if (error instanceof BridgeError && error.code === 'TOO_LARGE') return `${file.name} (${formatBytes(file.size)}) is more than this console host takes in one request: ${error.message}`
  return siteErrorText(error)
}

/** A refusal in the console's own words; every field it names, not only the first. */
export function siteErrorText(error: unknown): string {
  if (error instanceof BridgeError) {
    if (error.code === 'UNKNOWN_METHOD') return `This console host does not offer site planning (it may be an older version): ${error.message}`
    const issues = (error.issues ?? []).filter((issue) => !error.message.includes(issue.message))
    return issues.length > 0 ? `${error.message} ${issues.map((issue) => `${issue.path || 'file'}: ${issue.message}`).join('; ')}.` : error.message
  }
  return error instanceof Error ? error.message : String(error)
}

/** The report's counts in one line, for the header and for screen readers. */
export function siteSummary(site: SiteVersion): string {
  const { imported, skipped } = site.report
  return `Version ${site.version} · ${plural(imported.length, 'feature')} imported${skipped.length > 0 ? ` · ${skipped.length} skipped` : ''}`
}
