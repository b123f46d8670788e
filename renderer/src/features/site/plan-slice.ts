import type { CatalogueView } from '../../../../shared/contract'
import type { SiteModel } from '../../../../shared/domain/site/model'
import { describeEdit, EditHistory } from '../../../../shared/domain/site/site-edits'
import { BridgeError } from '../../bridge'
import type { Slice } from '../../state/store'
import { bytesToBase64 } from '../bench/base64'
import { formatBytes } from '../bench/bench-model'
import { downloadFile, exportLabels, placementEdits, placementLabel } from './plan-model'
import type { SiteLayerName, SitePlanSlice } from './plan-state'
import { maxSiteFileBytes } from './site-model'
import { siteErrorText } from './site-slice'

export type { SitePlanSlice } from './plan-state'

/** What the map shows at first: everything drawn from the plan; the radio map only when asked, it hides the rest. */
const defaultSiteLayers: Readonly<Record<SiteLayerName, boolean>> = {
  overlay: true,
  zones: true,
  obstructions: true,
  mountingPoints: true,
  devices: true,
  links: true,
  coverage: true,
  radio: false,
  blindSpots: true,
}

export const createPlanSlice: Slice<SitePlanSlice> = (bridge) => (set, get) => {
  // Saves run one after another, each naming the revision the one before it made: two quick edits must
  // not both claim the same base revision, or the second would be refused as a conflict with the first.
  let saveQueue: Promise<void> = Promise.resolve()
  let queuedSaves = 0
  // Bumped whenever the history on screen is replaced (a load, a refused save, an opened file, another
  // catalogue): saves queued for the history that went must not write its model over the new one.
  let historyEpoch = 0
  // Bumped by every edit applied here: a load answer that left before it must not undo it on screen.
  let editCount = 0
  let outputsRequest = 0
  let focusSeq = 0

  const startHistory = (model: SiteModel, catalogue: CatalogueView | null): EditHistory => {
    historyEpoch++
    return EditHistory.start(model, catalogue ? { catalogue: catalogue.parts } : {})
  }

  const refreshOutputs = async () => {
    const request = ++outputsRequest
    if (!get().plan) {
      set({ outputs: null, outputsError: null })
      return
    }
    try {
      const outputs = await bridge.call('site.outputs')
      if (request === outputsRequest) set({ outputs, outputsError: null })
    } catch (error) {
      if (request === outputsRequest) set({ outputsError: siteErrorText(error) })
    }
  }

  /**
   * The core's latest revision and catalogue. With `replace`, the history restarts from it whatever was
   * done meanwhile (after a refused save); otherwise edits made while it was asked for stay, since their
   * own saves bring the plan up to date.
   */
  const reload = async (replace: boolean): Promise<boolean> => {
    const edits = editCount
    try {
      const [plan, catalogue] = await Promise.all([bridge.call('site.plan'), bridge.call('site.catalogue')])
      const current = get()
      if (!replace && edits !== editCount) {
        set({ catalogue })
        return true
      }
      // The revision on screen again (a reconnect, the screen shown again): keep its undo history.
      const same = plan !== null && current.planHistory !== null && current.plan?.revision === plan.revision && current.catalogue?.editedAt === catalogue.editedAt && current.catalogue.source === catalogue.source
      set({ plan, catalogue, planHistory: plan === null ? null : same ? current.planHistory : startHistory(plan.model, catalogue), planError: null })
    } catch (error) {
      set({ planError: `The site plan could not be loaded: ${siteErrorText(error)}` })
      return false
    }
    await refreshOutputs()
    return true
  }

  const saveRefused = async (label: string, error: unknown) => {
    if (error instanceof BridgeError && error.code === 'CONFLICT') {
      const loaded = await reload(true)
      const plan = get().plan
      set({
        planError:
          loaded && plan
            ? `"${label}" was not saved: revision ${plan.revision} ("${plan.label}", by ${plan.operator || 'an unnamed operator'}) was saved from another screen meanwhile. The plan on screen is now that revision; make the change again if it is still needed.`
            : `"${label}" was not saved: the plan was changed from another screen meanwhile, and reloading it failed. ${get().planError ?? ''}`.trim(),
      })
      return
    }
    // The screen shows what is saved, never an edit the core did not keep.
    const { plan, catalogue } = get()
    set({
      planHistory: plan ? startHistory(plan.model, catalogue) : null,
      planError: `"${label}" was not saved: ${siteErrorText(error)} The plan on screen is revision ${plan?.revision ?? '?'} as saved.`,
    })
  }

  const save = (label: string) => {
    const history = get().planHistory
    if (!history) return
    const model = history.site
    const epoch = historyEpoch
    queuedSaves++
    set({ planSaving: true })
    saveQueue = saveQueue
      .then(async () => {
        const base = get().plan
        if (epoch !== historyEpoch || !base) return
        try {
          const saved = await bridge.call('site.savePlan', { baseRevision: base.revision, label, model })
          if (epoch === historyEpoch) set({ plan: saved })
        } catch (error) {
          if (epoch === historyEpoch) await saveRefused(label, error)
        }
      })
      .finally(() => {
        if (--queuedSaves > 0) return
        set({ planSaving: false })
        void refreshOutputs()
      })
  }

  const commit = (history: EditHistory, label: string) => {
    editCount++
    set({ planHistory: history, planError: null })
    save(label)
  }

  const noPlan = 'There is no site plan to edit yet: import a site file or open a saved plan first.'

  /** A catalogue saved or reset: coverage and placement were worked out with the old parts' figures. */
  const catalogueChanged = async (catalogue: CatalogueView) => {
    await saveQueue
    const plan = get().plan
    set({ catalogue, catalogueProblems: [], coverage: null, placement: null, planHistory: plan ? startHistory(plan.model, catalogue) : null })
    await refreshOutputs()
  }

  return {
    plan: null,
    planHistory: null,
    planSaving: false,
    planError: null,
    catalogue: null,
    coverage: null,
    coverageRunning: false,
    coverageError: null,
    placement: null,
    placementRunning: false,
    placementError: null,
    outputs: null,
    outputsError: null,
    siteLayers: { ...defaultSiteLayers },
    siteSelection: null,
    siteTool: 'select',
    siteExporting: null,
    siteExportError: null,
    catalogueSaving: false,
    catalogueProblems: [],
    siteBlindSpotFocus: null,

    loadPlan: async () => {
      // A save under way lands first, or its revision would look like another screen's.
      await saveQueue
      await reload(false)
    },
    receiveSiteChange: (change) => {
      const plan = get().plan
      // Our own saves announce themselves too; a queued save reloads once it has landed anyway.
      if (change.what === 'plan' && plan && change.revision <= plan.revision) return
      if (!plan && !get().catalogue) return
      void get().loadPlan()
    },

    editPlan: (edit) => {
      const history = get().planHistory
      const result = history?.apply(edit) ?? { ok: false, error: noPlan }
      if (!result.ok) {
        set({ planError: result.error })
        return
      }
      commit(result.history, describeEdit(edit))
    },
    editPlanBatch: (label, edits) => {
      const history = get().planHistory
      const result = history?.applyAll(label, edits) ?? { ok: false, error: noPlan }
      if (!result.ok) {
        set({ planError: result.error })
        return
      }
      if (result.history !== history) commit(result.history, result.history.undoLabel ?? label)
    },
    undoPlan: () => {
      const history = get().planHistory
      if (history?.canUndo) commit(history.undo(), `undo ${history.undoLabel}`)
    },
    redoPlan: () => {
      const history = get().planHistory
      if (history?.canRedo) commit(history.redo(), `redo ${history.redoLabel}`)
    },

    runCoverage: async (cellSizeM) => {
      set({ coverageRunning: true, coverageError: null })
      try {
        // The core computes the latest saved revision: the edits on screen must be in it.
        await saveQueue
        const coverage = await bridge.call('site.coverage', cellSizeM === undefined ? {} : { cellSizeM })
        set((state) => ({ coverage, siteBlindSpotFocus: state.coverage?.revision === coverage.revision ? state.siteBlindSpotFocus : null }))
      } catch (error) {
        set({ coverageError: siteErrorText(error) })
      } finally {
        set({ coverageRunning: false })
      }
    },
    runPlacement: async (request = {}) => {
      set({ placementRunning: true, placementError: null })
      try {
        await saveQueue
        set({ placement: await bridge.call('site.placement', request) })
      } catch (error) {
        set({ placementError: siteErrorText(error) })
      } finally {
        set({ placementRunning: false })
      }
    },
    applyPlacement: () => {
      const { placement, plan, planHistory } = get()
      if (!placement || !plan || !planHistory || placement.proposal.length === 0) return
      // The proposal fills the gaps of the revision it was worked out for; on another it may double up.
      if (placement.revision !== plan.revision || queuedSaves > 0) {
        set({ planError: `The placement was worked out for revision ${placement.revision}, and the plan has changed since. Press Close the gaps again before adding its devices.` })
        return
      }
      get().editPlanBatch(placementLabel(placement.proposal.length), placementEdits(planHistory.site, placement.proposal))
    },

    toggleSiteLayer: (name) => set((state) => ({ siteLayers: { ...state.siteLayers, [name]: !state.siteLayers[name] } })),
    selectSiteItem: (selection) => set({ siteSelection: selection }),
    setSiteTool: (tool) => set({ siteTool: tool }),
    focusBlindSpot: (id) => {
      if (get().coverage?.blindSpots.some((spot) => spot.id === id)) set({ siteBlindSpotFocus: { id, seq: ++focusSeq } })
    },

    exportSite: async (kind) => {
      if (get().siteExporting) return
      set({ siteExporting: kind, siteExportError: null })
      try {
        await saveQueue
        // The coverage diagram at the cell size on screen, so the file shows what the operator saw.
        const cellSizeM = get().coverage?.grid.cellSizeM
        downloadFile(await bridge.call('site.export', cellSizeM === undefined ? { kind } : { kind, cellSizeM }))
      } catch (error) {
        set({ siteExportError: `${exportLabels[kind]}: not made. ${siteErrorText(error)}` })
      } finally {
        set({ siteExporting: null })
      }
    },

    openPlanFile: async (file) => {
      try {
        if (file.size === 0) throw new Error(`${file.name} is empty.`)
        if (file.size > maxSiteFileBytes) throw new Error(`${file.name} is ${formatBytes(file.size)}; a browser can send site files of ${formatBytes(maxSiteFileBytes)} at most. Open it in the desktop console.`)
        const data = bytesToBase64(new Uint8Array(await file.arrayBuffer()))
        await saveQueue
        const plan = await bridge.call('site.openPlan', { fileName: file.name, data })
        set({ plan, planHistory: startHistory(plan.model, get().catalogue), planError: null })
        await refreshOutputs()
      } catch (error) {
        set({ planError: `${file.name} was not opened: ${siteErrorText(error)}` })
      }
    },

    saveCatalogue: async (partsJson) => {
      let parts: unknown
      try {
        parts = JSON.parse(partsJson)
      } catch (error) {
        set({ catalogueProblems: [`The catalogue is not valid JSON, so nothing was saved: ${error instanceof Error ? error.message : String(error)}.`] })
        return
      }
      set({ catalogueSaving: true, catalogueProblems: [] })
      try {
        await catalogueChanged(await bridge.call('site.saveCatalogue', { parts }))
      } catch (error) {
        set({ catalogueProblems: problemLines(error) })
      } finally {
        set({ catalogueSaving: false })
      }
    },
    resetCatalogue: async () => {
      set({ catalogueSaving: true, catalogueProblems: [] })
      try {
        await catalogueChanged(await bridge.call('site.resetCatalogue'))
      } catch (error) {
        set({ catalogueProblems: problemLines(error) })
      } finally {
        set({ catalogueSaving: false })
      }
    },
  }
}

/** A refusal as a list: the core's sentence, then every field it names (a catalogue has many parts to get wrong). */
function problemLines(error: unknown): string[] {
  if (error instanceof BridgeError) {
    const issues = (error.issues ?? []).filter((issue) => !error.message.includes(issue.message))
    return [error.message, ...issues.map((issue) => `${issue.path || 'catalogue'}: ${issue.message}`)]
  }
  return [siteErrorText(error)]
}
