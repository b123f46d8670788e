import { useCallback, useContext, useEffect, useRef, useState, type KeyboardEvent } from 'react'
import { StoreContext, useConsole } from '../../state/store'
import { isOutlineTool } from './map-edit'
import { readPalette } from './map-palette'
import type { MapDraft } from './map-plan-editor'
import { itemKey } from './map-plan-features'
import { SiteEditToolbar, siteTools } from './SiteEditToolbar'
import { SiteMapLayers } from './SiteMapLayers'
import { SiteMapView } from './site-map-view'
import './site-map.css'

/**
 * The map of the site on screen, with the plan's layers, their legend and the editing tools over it. The
 * MapLibre map is made once per mount and told about changes from effects; React renders only the
 * container, the controls over it and a line of trouble, never the map's insides.
 *
 * On the container, for tests and tools: `data-features` (imported features drawn in view, or kept there
 * to be clicked under a plan) once `data-version` is drawn; `data-plan-revision` once that revision's model
 * is drawn, with `data-zones`, `data-obstructions`, `data-mounting-points`, `data-devices` and `data-links`;
 * `data-coverage-revision` once its coverage is drawn, with `data-coverage-cells` (cells of a class, not
 * outside), `data-radio-cells` and `data-blind-spots`; `data-tool` and `data-selection` as the store has them.
 */
export function SiteMap() {
  const site = useConsole((state) => state.site)
  const focus = useConsole((state) => state.siteFocus)
  const focusSiteFeature = useConsole((state) => state.focusSiteFeature)
  const revision = useConsole((state) => state.plan?.revision ?? null)
  const sourceVersion = useConsole((state) => state.plan?.sourceVersion ?? null)
  const model = useConsole((state) => state.planHistory?.site ?? null)
  const parts = useConsole((state) => state.catalogue?.parts ?? null)
  const outputs = useConsole((state) => state.outputs)
  const coverage = useConsole((state) => state.coverage)
  const layers = useConsole((state) => state.siteLayers)
  const selection = useConsole((state) => state.siteSelection)
  const tool = useConsole((state) => state.siteTool)
  const blindSpotFocus = useConsole((state) => state.siteBlindSpotFocus)
  const selectSiteItem = useConsole((state) => state.selectSiteItem)
  const setSiteTool = useConsole((state) => state.setSiteTool)
  const editPlan = useConsole((state) => state.editPlan)
  const store = useContext(StoreContext)
  const container = useRef<HTMLDivElement>(null)
  const view = useRef<SiteMapView | null>(null)
  const [trouble, setTrouble] = useState<string | null>(null)
  const [draft, setDraft] = useState<MapDraft | null>(null)

  useEffect(() => {
    const element = container.current
    if (!element || !store) return
    let created: SiteMapView
    try {
      created = new SiteMapView(element, {
        rendered: (version, features) => {
          element.dataset.version = String(version)
          element.dataset.features = String(features)
        },
        picked: (feature) => focusSiteFeature(feature),
        failed: (message) => setTrouble(message),
        planRendered: (drawn) => {
          if (!drawn) {
            delete element.dataset.planRevision
            return
          }
          element.dataset.zones = String(drawn.zones)
          element.dataset.obstructions = String(drawn.obstructions)
          element.dataset.mountingPoints = String(drawn.mountingPoints)
          element.dataset.devices = String(drawn.devices)
          element.dataset.links = String(drawn.links)
          element.dataset.planRevision = String(drawn.revision)
        },
        coverageRendered: (drawn) => {
          if (!drawn) {
            delete element.dataset.coverageRevision
            return
          }
          element.dataset.coverageCells = String(drawn.cells)
          element.dataset.radioCells = String(drawn.radioCells)
          element.dataset.blindSpots = String(drawn.blindSpots)
          element.dataset.coverageRevision = String(drawn.revision)
        },
        selected: (selection) => selectSiteItem(selection),
        // The store applies the edit at once (or refuses it): the map draws whatever it now holds.
        edited: (edit) => {
          editPlan(edit)
          return store.getState().planHistory?.site ?? null
        },
        drafting: setDraft,
      })
    } catch (error) {
      // No WebGL (switched off, or a remote desktop without it): the report beside still says everything.
      queueMicrotask(() => setTrouble(`The map cannot be drawn in this window: ${error instanceof Error ? error.message : String(error)}`))
      return
    }
    view.current = created
    // The theme is a data attribute on <html>; follow it whoever changes it.
    const observer = new MutationObserver(() => void created.setPalette(readPalette()))
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] })
    return () => {
      observer.disconnect()
      view.current = null
      created.destroy()
      for (const name of ['features', 'version', 'planRevision', 'coverageRevision']) delete element.dataset[name]
    }
  }, [focusSiteFeature, selectSiteItem, editPlan, store])

  useEffect(() => {
    const element = container.current
    if (!site || !element || !view.current) return
    // Until the new version is drawn, the count of the old one would be a lie.
    if (element.dataset.version !== String(site.version)) delete element.dataset.features
    void view.current.show(site)
  }, [site])

  useEffect(() => {
    if (focus) void view.current?.focus(focus.feature)
  }, [focus])

  useEffect(() => {
    if (!view.current) return
    delete container.current?.dataset.planRevision
    void view.current.showPlan(model && revision !== null ? { revision, sourceVersion, site: model, catalogue: parts, outputs } : null)
  }, [revision, sourceVersion, model, parts, outputs])

  useEffect(() => {
    if (!view.current) return
    delete container.current?.dataset.coverageRevision
    void view.current.showCoverage(coverage)
  }, [coverage])

  useEffect(() => {
    void view.current?.setLayers(layers)
  }, [layers])

  useEffect(() => {
    void view.current?.setSelection(selection)
  }, [selection])

  useEffect(() => {
    view.current?.setTool(tool)
  }, [tool])

  useEffect(() => {
    void view.current?.focusBlindSpot(blindSpotFocus?.id ?? null)
  }, [blindSpotFocus])

  const deleteSelection = useCallback(() => {
    if (!selection || !store) return
    editPlan({ op: 'delete', collection: selection.collection, id: selection.id })
    // A refused delete (a mounting point still carrying devices) keeps the selection, and says why.
    const after = store.getState().planHistory?.site
    if (after && !after[selection.collection].some((item) => item.id === selection.id)) selectSiteItem(null)
  }, [selection, store, editPlan, selectSiteItem])

  /** Escape, one step at a time: a shape half drawn or a drag (the tool stays for the next), the tool, the selection. */
  const stepBack = (): boolean => {
    if (view.current?.cancelGesture()) return true
    if (tool !== 'select') setSiteTool('select')
    else if (selection) selectSiteItem(null)
    else return false
    return true
  }

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    // A letter typed in the selection's fields is the field's, not a tool's.
    if (!model || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isFormField(event.target)) return
    const key = event.key
    const shortcut = siteTools.find((t) => t.key.toLowerCase() === key.toLowerCase())
    if (shortcut) setSiteTool(shortcut.tool)
    else if (key === 'Escape') {
      if (!stepBack()) return
    } else if (key === 'Enter' && draft && !(event.target instanceof HTMLButtonElement)) view.current?.finishOutline()
    // While an outline is drawn, Backspace takes corners back: pressed once too often it must not delete the selection.
    else if (key === 'Backspace' && isOutlineTool(tool)) view.current?.removeLastCorner()
    else if ((key === 'Delete' || key === 'Backspace') && selection) deleteSelection()
    else return
    event.preventDefault()
  }

  return (
    // Keys reach the frame from the map's canvas and from the tools over it, wherever the focus is inside.
    <div
      className="site-map-frame"
      onKeyDown={onKeyDown}
      onMouseDownCapture={(event) => {
        // A click on the map gives it the keyboard, so M, W, Delete and Escape work right after it.
        if (event.target instanceof HTMLCanvasElement) event.target.focus({ preventScroll: true })
      }}
    >
      <div ref={container} className="site-map" data-testid="site-map" data-tool={tool} data-selection={selection ? itemKey(selection) : undefined} role="region" aria-label="Site map" />
      {model && <SiteEditToolbar onDelete={deleteSelection} draft={draft} />}
      {model && <SiteMapLayers />}
      {trouble && (
        <p className="site-map-trouble error" role="alert">
          {trouble}
        </p>
      )}
    </div>
  )
}

function isFormField(target: EventTarget): boolean {
  return target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement
}
