import { describe, expect, it } from 'vitest'
import { createStore, type StateCreator } from 'zustand'
import type { SiteVersion } from '../../../shared/contract'
import { BridgeError, type Bridge } from '../../../renderer/src/bridge'
import { fakeBridge } from './fake-bridge'
import { createSiteSlice, siteSummary, type SiteSlice } from '../../../renderer/src/features/site/site-slice'

function siteStore(bridge: Bridge) {
  return createStore<SiteSlice>()(createSiteSlice(bridge) as unknown as StateCreator<SiteSlice>)
}

const version = (n: number, fileName = `v${n}.kml`): SiteVersion => ({
  version: n,
  fileName,
  importedAt: 1_700_000_000_000 + n,
  operator: 'ana',
  report: {
    format: 'kml',
    imported: [
      { index: 0, name: 'Gate', kind: 'point', folder: null },
      { index: 1, name: 'Yard', kind: 'polygon', folder: 'Site' },
    ],
    skipped: [{ index: 2, name: 'Pump', folder: null, line: 40, reason: 'no coordinates' }],
    warnings: [],
  },
  collection: {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] }, properties: {} },
      { type: 'Feature', geometry: { type: 'Polygon', coordinates: [] }, properties: {} },
    ],
  },
  overlays: [],
})

const kml = (text: string, name = 'site.kml') => new File([new TextEncoder().encode(text)], name)

/** A promise and the function that settles it, to hold an answer back. */
function deferred<T>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

describe('site slice', () => {
  it('loads the current site; "none yet" is known, not "not heard yet"', async () => {
    let current: SiteVersion | null = null
    const store = siteStore(fakeBridge({ 'site.current': () => current }).bridge)
    expect(store.getState().siteKnown).toBe(false)
    await store.getState().loadSite()
    expect(store.getState()).toMatchObject({ site: null, siteKnown: true, siteLoadError: null })
    current = version(3)
    await store.getState().loadSite()
    expect(store.getState().site?.version).toBe(3)
    // Another host (or a fresh data folder) after a reconnect: no site there, none on screen.
    current = null
    await store.getState().loadSite()
    expect(store.getState().site).toBeNull()
  })

  it('a host without site planning says so; nothing throws', async () => {
    const store = siteStore(fakeBridge({}).bridge)
    await store.getState().loadSite()
    expect(store.getState().siteLoadError).toMatch(/does not offer site planning/)
    expect(store.getState().siteKnown).toBe(false)
  })

  it('imports a file as base64 and shows the version the core made of it', async () => {
    const { bridge, calls } = fakeBridge({ 'site.import': () => version(4, 'site.kml') })
    const store = siteStore(bridge)
    const text = '<kml>é</kml>'
    await store.getState().importSite(kml(text))
    const sent = calls.find((call) => call.method === 'site.import')!.params as { fileName: string; data: string }
    expect(sent.fileName).toBe('site.kml')
    expect(new TextDecoder().decode(Uint8Array.from(atob(sent.data), (c) => c.charCodeAt(0)))).toBe(text)
    expect(store.getState().site?.version).toBe(4)
    expect(store.getState().siteImport).toMatchObject({ fileName: 'site.kml', state: 'kept', version: 4, error: null })
  })

  it('a refused file: the reason in full, and the site on screen stays', async () => {
    const store = siteStore(
      fakeBridge({
        'site.current': () => version(2),
        'site.import': () => {
          throw new BridgeError({ code: 'INVALID_PARAMS', message: 'Nothing in bad.kml could be used: Point (line 4): "no,no" is not longitude,latitude[,altitude].' })
        },
      }).bridge,
    )
    await store.getState().loadSite()
    await store.getState().importSite(kml('<kml/>', 'bad.kml'))
    expect(store.getState().site?.version).toBe(2)
    expect(store.getState().siteImport).toMatchObject({ fileName: 'bad.kml', state: 'refused' })
    expect(store.getState().siteImport!.error).toBe('Nothing in bad.kml could be used: Point (line 4): "no,no" is not longitude,latitude[,altitude].')
  })

  it('names every field the core refused, and says when a request is too large for the host', async () => {
    let error = new BridgeError({ code: 'INVALID_PARAMS', message: 'Invalid parameters.', issues: [{ path: 'fileName', message: 'Too long' }] })
    const store = siteStore(
      fakeBridge({
        'site.import': () => {
          throw error
        },
      }).bridge,
    )
    await store.getState().importSite(kml('<kml/>'))
    expect(store.getState().siteImport!.error).toBe('Invalid parameters. fileName: Too long.')
    error = new BridgeError({ code: 'TOO_LARGE', message: 'The request is over 31 MB.' })
    await store.getState().importSite(kml('<kml/>'))
    expect(store.getState().siteImport!.error).toMatch(/^site\.kml \(6 B\) is more than this console host takes in one request: The request is over 31 MB\.$/)
  })

  it('refuses empty and oversized files before sending them', async () => {
    const { bridge, calls } = fakeBridge({ 'site.import': () => version(1) })
    const store = siteStore(bridge)
    await store.getState().importSite(new File([], 'empty.kml'))
    expect(store.getState().siteImport).toMatchObject({ state: 'refused', error: 'empty.kml is empty.' })
    const huge = { name: 'huge.kmz', size: 40 * 1024 * 1024, arrayBuffer: () => Promise.reject(new Error('must not be read')) } as unknown as File
    await store.getState().importSite(huge)
    expect(store.getState().siteImport!.error).toMatch(/^huge\.kmz is 40 MB; a browser can send site files of .* at most/)
    expect(calls).toEqual([])
  })

  it('shows "sending" while the core reads the file', async () => {
    const answer = deferred<SiteVersion>()
    const store = siteStore(fakeBridge({ 'site.import': () => answer.promise }).bridge)
    const done = store.getState().importSite(kml('<kml/>'))
    await expect.poll(() => store.getState().siteImport?.state).toBe('sending')
    answer.resolve(version(1))
    await done
    expect(store.getState().siteImport?.state).toBe('kept')
  })

  it('a site.current answer that left before an import does not put the older site back', async () => {
    const current = deferred<SiteVersion | null>()
    const store = siteStore(fakeBridge({ 'site.current': () => current.promise, 'site.import': () => version(5) }).bridge)
    const loading = store.getState().loadSite()
    await store.getState().importSite(kml('<kml/>'))
    current.resolve(null)
    await loading
    expect(store.getState().site?.version).toBe(5)
  })

  it('never replaces a newer version with an older one', async () => {
    let current = version(7)
    const store = siteStore(fakeBridge({ 'site.current': () => current }).bridge)
    await store.getState().loadSite()
    current = version(6)
    await store.getState().loadSite()
    expect(store.getState().site?.version).toBe(7)
  })

  it('focus: a feature of the site on screen, again and again; it is dropped with a new version', async () => {
    let current = version(1)
    const store = siteStore(fakeBridge({ 'site.current': () => current }).bridge)
    store.getState().focusSiteFeature(0)
    expect(store.getState().siteFocus).toBeNull()
    await store.getState().loadSite()
    store.getState().focusSiteFeature(1)
    const first = store.getState().siteFocus!
    expect(first.feature).toBe(1)
    store.getState().focusSiteFeature(1)
    expect(store.getState().siteFocus!.seq).toBeGreaterThan(first.seq)
    store.getState().focusSiteFeature(9)
    expect(store.getState().siteFocus!.feature).toBe(1)
    // The same version again (a reconnect) keeps the focus; a new one drops it.
    await store.getState().loadSite()
    expect(store.getState().siteFocus!.feature).toBe(1)
    current = version(2)
    await store.getState().loadSite()
    expect(store.getState().siteFocus).toBeNull()
  })

  it('sums the report up in one line', () => {
    expect(siteSummary(version(3))).toBe('Version 3 · 2 features imported · 1 skipped')
    expect(siteSummary({ ...version(1), report: { ...version(1).report, imported: [version(1).report.imported[0]!], skipped: [] } })).toBe('Version 1 · 1 feature imported')
  })
})
