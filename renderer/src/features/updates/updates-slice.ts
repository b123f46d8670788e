import type { ArtifactView, RolloutDetail, RolloutPreview, RolloutSummary, StreamDiff } from '../../../../shared/contract'
import { BridgeError } from '../../bridge'
import { mergeKeyed } from '../../state/merge-keyed'
import type { Slice } from '../../state/store'
import { bytesToBase64 } from '../bench/base64'
import { formatBytes } from '../bench/bench-model'
import {
  addPhase,
  defaultPhaseDrafts,
  draftToRequest,
  editPhase,
  newRolloutDraft,
  removePhase,
  requestKey,
  toggled,
  type DraftRequest,
  type PhaseDraft,
  type RolloutDraft,
  type TargetDraft,
} from './rollout-draft'
import { mergeRolloutList, withSummary, type RolloutRows } from './updates-model'

/** One image of the last import, from the moment it is picked to the console's answer. */
export interface ArtifactImport {
  id: number
  fileName: string
  size: number
  state: 'reading' | 'sending' | 'kept' | 'refused'
  artifact: ArtifactView | null
  /** Once refused: the console's reason, in full. */
  error: string | null
}

/** The plan the console answered for the form as it was; Start runs it only while the form still matches. */
export interface ShownPreview {
  key: string
  request: DraftRequest
  preview: RolloutPreview
}

/** The rollout on screen: what `ota.rollout` last answered for it. */
export interface RolloutDetailView {
  id: string
  detail: RolloutDetail | null
  error: string | null
}

export type UpdatesOutcome = { ok: true; text: string } | { ok: false; text: string }

export interface UpdatesSlice {
  updatesArtifacts: readonly ArtifactView[]
  /** False until the core first listed its images: "none yet" is not "not heard yet". */
  updatesArtifactsKnown: boolean
  updatesArtifactsError: string | null
  updatesImports: readonly ArtifactImport[]
  /** Refuse images older than this (a downgrade); empty: no minimum. */
  updatesMinimumVersion: string

  updatesRollouts: RolloutRows
  /** Set when the connection (re)opens: the next push is every rollout the core keeps, not a change. */
  updatesRolloutsAwaitingSnapshot: boolean
  updatesRolloutsKnown: boolean
  updatesRolloutsError: string | null

  updatesDraft: RolloutDraft
  /** What the form must fix before it can be previewed, once Preview was pressed. */
  updatesDraftProblems: readonly string[]
  updatesPreview: ShownPreview | null
  updatesPreviewing: boolean
  updatesStarting: boolean
  /** The console's refusal of a preview or a start, in full. */
  updatesPlanError: string | null

  /** The rollout shown; null shows the New rollout form. */
  updatesSelected: string | null
  updatesDetail: RolloutDetailView | null

  receiveRollouts(diff: StreamDiff<RolloutSummary>): void
  expectRolloutsSnapshot(): void
  /** Images and rollouts; never throws, errors are kept for the panels. */
  loadUpdates(): Promise<void>
  loadArtifacts(): Promise<void>
  loadRollouts(): Promise<void>

  setMinimumVersion(text: string): void
  importArtifacts(files: readonly File[]): Promise<void>

  /** Shows the New rollout form, with `artifact` chosen when given. */
  newRollout(artifact?: string): void
  chooseArtifact(sha256: string | null): void
  setTargets(change: Partial<TargetDraft>): void
  toggleTargetGroup(group: string, on: boolean): void
  toggleTargetVersion(version: string, on: boolean): void
  toggleTargetDevice(id: string, on: boolean): void
  editRolloutPhase(key: number, change: Partial<Omit<PhaseDraft, 'key'>>): void
  addRolloutPhase(): void
  removeRolloutPhase(key: number): void
  resetRolloutPhases(): void
  previewRollout(): Promise<void>
  /** Starts the previewed plan, with its seed; refused on screen if the form changed since. */
  startRollout(): Promise<boolean>

  selectRollout(id: string | null): void
  refreshRollout(): Promise<void>
  pauseRollout(id: string): Promise<UpdatesOutcome>
  resumeRollout(id: string): Promise<UpdatesOutcome>
  abortRollout(id: string): Promise<UpdatesOutcome>
}

/** An image the browser sends in one request: the contract's 16 MB, as base64. */
const maxImageBytes = 16 * 1024 * 1024

export const createUpdatesSlice: Slice<UpdatesSlice> = (bridge) => (set, get) => {
  let importId = 0
  // One `ota.rollout` call at a time: a slow host must not pile up refreshes every second.
  let detailInFlight: Promise<void> | null = null
  let detailAgain = false

  const fetchDetail = async (id: string) => {
    try {
      const detail = await bridge.call('ota.rollout', { rolloutId: id })
      if (get().updatesDetail?.id !== id) return
      set((state) => ({ updatesDetail: { id, detail, error: null }, updatesRollouts: withSummary(state.updatesRollouts, detail.summary) }))
    } catch (error) {
      const current = get().updatesDetail
      if (current?.id === id) set({ updatesDetail: { ...current, error: updatesErrorText(error) } })
    }
  }

  const importOne = async (file: File, id: number, minimumVersion: string) => {
    const update = (change: Partial<ArtifactImport>) =>
      set((state) => ({ updatesImports: state.updatesImports.map((item) => (item.id === id ? { ...item, ...change } : item)) }))
    try {
      if (file.size === 0) throw new Error(`${file.name} is empty.`)
      if (file.size > maxImageBytes) throw new Error(`${file.name} is ${formatBytes(file.size)}; ESP32 application images are 16 MB at most. Pick the app image of the build (build/<project>.bin), not a merged flash image.`)
      const data = bytesToBase64(new Uint8Array(await file.arrayBuffer()))
      update({ state: 'sending' })
      const artifact = await bridge.call('ota.importArtifact', { fileName: file.name, data, ...(minimumVersion ? { minimumVersion } : {}) })
      update({ state: 'kept', artifact, error: null })
      set((state) => ({
        updatesArtifacts: [artifact, ...state.updatesArtifacts.filter((item) => item.sha256 !== artifact.sha256)],
        // The first image kept is the one a new rollout most likely wants.
        updatesDraft: state.updatesDraft.artifact === null ? { ...state.updatesDraft, artifact: artifact.sha256 } : state.updatesDraft,
      }))
    } catch (error) {
      const text =
        error instanceof BridgeError && error.code === 'TOO_LARGE'
          ? `${file.name} (${formatBytes(file.size)}) is more than this console host takes in one request: ${error.message}`
          : updatesErrorText(error)
      update({ state: 'refused', error: text })
    }
  }

  /** Every edit of the form: the last refusal no longer describes it. */
  const editDraft = (change: (draft: RolloutDraft) => RolloutDraft) =>
    set((state) => {
      const draft = change(state.updatesDraft)
      return draft === state.updatesDraft ? state : { updatesDraft: draft, updatesDraftProblems: [], updatesPlanError: null }
    })
  const editTargets = (change: (targets: TargetDraft) => TargetDraft) => editDraft((draft) => ({ ...draft, targets: change(draft.targets) }))

  const operate = async (id: string, method: 'ota.pause' | 'ota.resume' | 'ota.abort', done: (summary: RolloutSummary) => string, refused: string): Promise<UpdatesOutcome> => {
    try {
      const summary = await bridge.call(method, { rolloutId: id })
      set((state) => ({ updatesRollouts: withSummary(state.updatesRollouts, summary) }))
      if (get().updatesDetail?.id === id) void get().refreshRollout()
      return { ok: true, text: done(summary) }
    } catch (error) {
      return { ok: false, text: `${refused}: ${updatesErrorText(error)}` }
    }
  }

  return {
    updatesArtifacts: [],
    updatesArtifactsKnown: false,
    updatesArtifactsError: null,
    updatesImports: [],
    updatesMinimumVersion: '',
    updatesRollouts: {},
    updatesRolloutsAwaitingSnapshot: true,
    updatesRolloutsKnown: false,
    updatesRolloutsError: null,
    updatesDraft: newRolloutDraft(),
    updatesDraftProblems: [],
    updatesPreview: null,
    updatesPreviewing: false,
    updatesStarting: false,
    updatesPlanError: null,
    updatesSelected: null,
    updatesDetail: null,

    receiveRollouts: (diff) => {
      const state = get()
      const rows = mergeKeyed(state.updatesRollouts, diff, state.updatesRolloutsAwaitingSnapshot)
      if (rows === state.updatesRollouts && !state.updatesRolloutsAwaitingSnapshot && state.updatesRolloutsKnown) return
      set({ updatesRollouts: rows, updatesRolloutsAwaitingSnapshot: false, updatesRolloutsKnown: true })
    },
    expectRolloutsSnapshot: () => set({ updatesRolloutsAwaitingSnapshot: true }),

    loadUpdates: async () => {
      await Promise.all([get().loadArtifacts(), get().loadRollouts(), get().updatesDetail ? get().refreshRollout() : undefined])
    },
    loadArtifacts: async () => {
      try {
        const artifacts = await bridge.call('ota.artifacts')
        set((state) => ({
          updatesArtifacts: artifacts,
          updatesArtifactsKnown: true,
          updatesArtifactsError: null,
          // An image gone from this host (another host after a reconnect) cannot be rolled out.
          updatesDraft: state.updatesDraft.artifact !== null && !artifacts.some((a) => a.sha256 === state.updatesDraft.artifact) ? { ...state.updatesDraft, artifact: artifacts[0]?.sha256 ?? null } : state.updatesDraft,
        }))
      } catch (error) {
        set({ updatesArtifactsError: updatesErrorText(error) })
      }
    },
    loadRollouts: async () => {
      try {
        const list = await bridge.call('ota.rollouts')
        set((state) => ({ updatesRollouts: mergeRolloutList(state.updatesRollouts, list), updatesRolloutsKnown: true, updatesRolloutsError: null }))
      } catch (error) {
        set({ updatesRolloutsError: updatesErrorText(error) })
      }
    },

    setMinimumVersion: (text) => set({ updatesMinimumVersion: text }),
    importArtifacts: async (files) => {
      if (files.length === 0) return
      const minimumVersion = get().updatesMinimumVersion.trim()
      const batch: ArtifactImport[] = files.map((file) => ({ id: ++importId, fileName: file.name, size: file.size, state: 'reading', artifact: null, error: null }))
      set({ updatesImports: batch })
      // One at a time: each request carries a whole image, and the console signs each on its own.
      for (const [index, file] of files.entries()) await importOne(file, batch[index]!.id, minimumVersion)
      await get().loadArtifacts()
    },

    newRollout: (artifact) => {
      set({ updatesSelected: null, updatesDetail: null })
      if (artifact !== undefined) get().chooseArtifact(artifact)
    },
    chooseArtifact: (sha256) => editDraft((draft) => (draft.artifact === sha256 ? draft : { ...draft, artifact: sha256 })),
    setTargets: (change) => editTargets((targets) => ({ ...targets, ...change })),
    toggleTargetGroup: (group, on) => editTargets((targets) => ({ ...targets, groups: toggled(targets.groups, group, on) })),
    toggleTargetVersion: (version, on) => editTargets((targets) => ({ ...targets, versions: toggled(targets.versions, version, on) })),
    toggleTargetDevice: (id, on) => editTargets((targets) => ({ ...targets, deviceIds: toggled(targets.deviceIds, id, on) })),
    editRolloutPhase: (key, change) => editDraft((draft) => ({ ...draft, phases: editPhase(draft.phases, key, change) })),
    addRolloutPhase: () => editDraft((draft) => ({ ...draft, phases: addPhase(draft.phases) })),
    removeRolloutPhase: (key) => editDraft((draft) => ({ ...draft, phases: removePhase(draft.phases, key) })),
    resetRolloutPhases: () => editDraft((draft) => ({ ...draft, phases: defaultPhaseDrafts() })),

    previewRollout: async () => {
      const checked = draftToRequest(get().updatesDraft)
      if (!checked.ok) {
        set({ updatesDraftProblems: checked.problems, updatesPlanError: null })
        return
      }
      const key = requestKey(checked.request)
      set({ updatesPreviewing: true, updatesDraftProblems: [], updatesPlanError: null })
      try {
        const preview = await bridge.call('ota.preview', checked.request)
        set({ updatesPreview: { key, request: checked.request, preview } })
      } catch (error) {
        set({ updatesPreview: null, updatesPlanError: `No plan: ${updatesErrorText(error, true)}` })
      } finally {
        set({ updatesPreviewing: false })
      }
    },
    startRollout: async () => {
      const state = get()
      const shown = state.updatesPreview
      if (!shown || state.updatesStarting) return false
      const checked = draftToRequest(state.updatesDraft)
      if (!checked.ok || requestKey(checked.request) !== shown.key) {
        set({ updatesPlanError: 'The form changed since the preview. Press Preview again and check the plan before starting.' })
        return false
      }
      set({ updatesStarting: true, updatesPlanError: null })
      try {
        // The preview's seed: the console plans the same devices in the same phases and order as shown.
        const started = await bridge.call('ota.start', { ...shown.request, seed: shown.preview.seed })
        set((current) => ({
          updatesRollouts: withSummary(current.updatesRollouts, started),
          updatesPreview: null,
          updatesSelected: started.id,
          updatesDetail: { id: started.id, detail: null, error: null },
        }))
        void get().refreshRollout()
        return true
      } catch (error) {
        set({ updatesPlanError: `Not started: ${updatesErrorText(error, true)}` })
        return false
      } finally {
        set({ updatesStarting: false })
      }
    },

    selectRollout: (id) => {
      if (id === null) {
        set({ updatesSelected: null, updatesDetail: null })
        return
      }
      if (get().updatesSelected === id && get().updatesDetail?.id === id) return
      set({ updatesSelected: id, updatesDetail: { id, detail: null, error: null } })
      void get().refreshRollout()
    },
    refreshRollout: async () => {
      if (detailInFlight) {
        detailAgain = true
        return detailInFlight
      }
      const run = async () => {
        do {
          detailAgain = false
          const id = get().updatesDetail?.id
          if (!id) return
          await fetchDetail(id)
        } while (detailAgain)
      }
      detailInFlight = run().finally(() => {
        detailInFlight = null
      })
      return detailInFlight
    },
    pauseRollout: (id) => operate(id, 'ota.pause', () => `Paused ${id}: nothing new starts and nothing more is installed. Downloads under way stop at downloaded.`, 'Not paused'),
    resumeRollout: (id) => {
      const overGate = get().updatesRollouts[id]?.pausedBy === 'health-gate'
      return operate(
        id,
        'ota.resume',
        (summary) => (overGate ? `Resumed ${id} over the failed health gate; the override is in the audit log with your name. ${summary.detail}` : `Resumed ${id}. ${summary.detail}`),
        'Not resumed',
      )
    },
    abortRollout: (id) => operate(id, 'ota.abort', () => `Aborting ${id}: nothing new starts, downloads are cancelled, and no device will install the image.`, 'Not aborted'),
  }
}

/**
 * A refusal in the console's own words. A host without staged updates (an older version) says so
 * plainly; with `withIssues`, every field the core refused is named, not only the first.
 */
export function updatesErrorText(error: unknown, withIssues = false): string {
  if (error instanceof BridgeError) {
    if (error.code === 'UNKNOWN_METHOD') return `This console host does not offer staged updates (it may be an older version): ${error.message}`
    const issues = (error.issues ?? []).filter((issue) => !error.message.includes(issue.message))
    if (withIssues && issues.length > 0) return `${error.message} ${issues.map((issue) => `${issue.path || 'request'}: ${issue.message}`).join('; ')}.`
    return error.message
  }
  return error instanceof Error ? error.message : String(error)
}
