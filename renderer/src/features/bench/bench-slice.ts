import type { FirmwareFile, FlashJobRow, PortRow, Recipe, StreamDiff } from '../../../../shared/contract'
import { BridgeError } from '../../bridge'
import type { Slice } from '../../state/store'
import { nextPlannedIds, plannedNodes } from '../site/planned-nodes'
import { bytesToBase64 } from './base64'
import { mergeKeyed } from '../../state/merge-keyed'
import { formatBytes, freePortPaths, newlyFinished, portsToFlash, pruneSelection, toggleInSelection, type JobRows, type PortRows } from './bench-model'
import {
  addRegion,
  draftFromRecipe,
  draftMatches,
  draftToParams,
  newDraft,
  removeRegion,
  setRegionFile,
  setRegionOffset,
  setRegionRole,
  type RecipeDraft,
  type RegionRole,
} from './recipe-draft'

/** One file of the last import, from the moment it is picked to the console's answer. */
export interface FirmwareImport {
  id: number
  fileName: string
  size: number
  state: 'reading' | 'sending' | 'kept' | 'refused'
  /** What the console read in the file, once kept. */
  summary: string | null
  error: string | null
}

export interface BenchJobLog {
  open: boolean
  rows: FlashJobRow[] | null
  error: string | null
}

export type BenchOutcome = { ok: true; text: string } | { ok: false; text: string }

export interface BenchSlice {
  benchPorts: PortRows
  /** Set when the connection (re)opens: the next push is the core's whole port list, not a change. */
  benchPortsAwaitingSnapshot: boolean
  /** False until the core first said which ports there are: "no ports" is not "not heard yet". */
  benchPortsKnown: boolean
  benchJobs: JobRows
  benchJobsAwaitingSnapshot: boolean
  /** Ticked port paths, in path order. */
  benchSelected: readonly string[]
  benchFirmware: readonly FirmwareFile[]
  benchFirmwareError: string | null
  benchImports: readonly FirmwareImport[]
  benchRecipes: readonly Recipe[]
  benchRecipesError: string | null
  /** The saved recipe Flash will write, by name. */
  benchRecipe: string | null
  benchDraft: RecipeDraft
  benchRecipeError: string | null
  benchRecipeNote: string | null
  benchRecipeSaving: boolean
  /** The number `{seq}` gives the first board of the next batch. */
  benchFirstSeq: number
  /** Name the next batch's boards after the site plan's nodes not flashed yet, instead of the recipe's pattern. */
  benchNamesFromPlan: boolean
  benchFlashing: boolean
  benchFlashError: string | null
  benchFlashNote: string | null
  benchJobLog: BenchJobLog

  receivePorts(diff: StreamDiff<PortRow>): void
  expectPortsSnapshot(): void
  receiveBenchJobs(diff: StreamDiff<FlashJobRow>): void
  expectBenchJobsSnapshot(): void
  /** Firmware and recipes; never throws, errors are kept for the panels. */
  loadBench(): Promise<void>
  loadFirmware(): Promise<void>
  loadRecipes(): Promise<void>

  includePort(path: string, included: boolean): void
  selectFreePorts(): void
  clearPortSelection(): void

  importFirmware(files: readonly File[]): Promise<void>

  chooseRecipe(name: string | null): void
  editRecipe(change: Partial<Pick<RecipeDraft, 'name' | 'serialPattern' | 'baud'>>): void
  addRecipeRegion(): void
  removeRecipeRegion(key: number): void
  setRecipeRegionRole(key: number, role: RegionRole): void
  setRecipeRegionOffset(key: number, text: string): void
  setRecipeRegionFile(key: number, sha256: string): void
  saveRecipe(): Promise<boolean>
  deleteRecipe(name: string): Promise<BenchOutcome>

  setFirstSeq(seq: number): void
  setNamesFromPlan(on: boolean): void
  flash(): Promise<void>
  cancelFlashJob(jobId: number): Promise<BenchOutcome>
  resumeBatch(batchId: number): Promise<BenchOutcome>
  /** Reads a done job's regions back from its board; the outcome names any region that differs. */
  readBack(jobId: number): Promise<BenchOutcome>

  setJobLogOpen(open: boolean): void
  loadJobLog(): Promise<void>
}

const jobLogLimit = 100
const rememberedRecipeKey = 'bench-recipe'

export const createBenchSlice: Slice<BenchSlice> = (bridge) => (set, get) => {
  let importId = 0
  // One `bench.jobs` call at a time: jobs finishing together must not pile up log reloads.
  let logInFlight: Promise<void> | null = null
  let logAgain = false

  const fetchJobLog = async () => {
    try {
      const rows = await bridge.call('bench.jobs', { limit: jobLogLimit })
      set((state) => ({ benchJobLog: { ...state.benchJobLog, rows, error: null } }))
    } catch (error) {
      set((state) => ({ benchJobLog: { ...state.benchJobLog, error: benchErrorText(error) } }))
    }
  }

  const importOne = async (file: File, id: number) => {
    const update = (change: Partial<FirmwareImport>) =>
      set((state) => ({ benchImports: state.benchImports.map((item) => (item.id === id ? { ...item, ...change } : item)) }))
    try {
      if (file.size === 0) throw new Error(`${file.name} is empty.`)
      if (file.size > 16 * 1024 * 1024) throw new Error(`${file.name} is ${formatBytes(file.size)}; ESP32 flash images are 16 MB at most.`)
      const data = bytesToBase64(new Uint8Array(await file.arrayBuffer()))
      update({ state: 'sending' })
      const kept = await bridge.call('bench.importFirmware', { fileName: file.name, data })
      update({ state: 'kept', summary: kept.summary, error: null })
      set((state) => ({ benchFirmware: [kept, ...state.benchFirmware.filter((item) => item.sha256 !== kept.sha256)] }))
    } catch (error) {
      const text =
        error instanceof BridgeError && error.code === 'TOO_LARGE'
          ? `${file.name} (${formatBytes(file.size)}) is more than this console host takes in one request: ${error.message}`
          : benchErrorText(error)
      update({ state: 'refused', error: text })
    }
  }

  const editDraft = (change: (draft: RecipeDraft) => RecipeDraft) =>
    set((state) => {
      const draft = change(state.benchDraft)
      return draft === state.benchDraft ? state : { benchDraft: draft, benchRecipeError: null, benchRecipeNote: null }
    })

  return {
    benchPorts: {},
    benchPortsAwaitingSnapshot: true,
    benchPortsKnown: false,
    benchJobs: {},
    benchJobsAwaitingSnapshot: true,
    benchSelected: [],
    benchFirmware: [],
    benchFirmwareError: null,
    benchImports: [],
    benchRecipes: [],
    benchRecipesError: null,
    benchRecipe: remembered(),
    benchDraft: newDraft(),
    benchRecipeError: null,
    benchRecipeNote: null,
    benchRecipeSaving: false,
    benchFirstSeq: 1,
    benchNamesFromPlan: false,
    benchFlashing: false,
    benchFlashError: null,
    benchFlashNote: null,
    benchJobLog: { open: false, rows: null, error: null },

    receivePorts: (diff) => {
      const state = get()
      const ports = mergeKeyed(state.benchPorts, diff, state.benchPortsAwaitingSnapshot)
      if (ports === state.benchPorts && !state.benchPortsAwaitingSnapshot && state.benchPortsKnown) return
      set({ benchPorts: ports, benchPortsAwaitingSnapshot: false, benchPortsKnown: true, benchSelected: pruneSelection(state.benchSelected, ports) })
    },
    expectPortsSnapshot: () => set({ benchPortsAwaitingSnapshot: true }),

    receiveBenchJobs: (diff) => {
      const state = get()
      const jobs = mergeKeyed(state.benchJobs, diff, state.benchJobsAwaitingSnapshot)
      if (jobs !== state.benchJobs || state.benchJobsAwaitingSnapshot) set({ benchJobs: jobs, benchJobsAwaitingSnapshot: false })
      // The log lists finished jobs with their hashes: a job that just finished belongs in it.
      if (state.benchJobLog.open && newlyFinished(state.benchJobs, jobs).length > 0) void get().loadJobLog()
    },
    expectBenchJobsSnapshot: () => set({ benchJobsAwaitingSnapshot: true }),

    loadBench: async () => {
      await Promise.all([get().loadFirmware(), get().loadRecipes(), get().benchJobLog.open ? get().loadJobLog() : undefined])
    },
    loadFirmware: async () => {
      try {
        set({ benchFirmware: await bridge.call('bench.firmware'), benchFirmwareError: null })
      } catch (error) {
        set({ benchFirmwareError: benchErrorText(error) })
      }
    },
    loadRecipes: async () => {
      try {
        const recipes = await bridge.call('bench.recipes')
        set((state) => {
          const before = state.benchRecipes.find((recipe) => recipe.name === state.benchRecipe)
          const now = recipes.find((recipe) => recipe.name === state.benchRecipe)
          if (!now) {
            // Deleted elsewhere (or never saved here): what is on the form stays, as a new recipe.
            return { benchRecipes: recipes, benchRecipesError: null, benchRecipe: null }
          }
          // Follow the saved recipe unless the engineer is part-way through changing it.
          const pristine = before ? draftMatches(state.benchDraft, before) : state.benchDraft.name === '' || state.benchDraft.name === now.name
          return { benchRecipes: recipes, benchRecipesError: null, ...(pristine ? { benchDraft: draftFromRecipe(now) } : {}) }
        })
      } catch (error) {
        set({ benchRecipesError: benchErrorText(error) })
      }
    },

    includePort: (path, included) => set((state) => ({ benchSelected: toggleInSelection(state.benchSelected, path, included) })),
    selectFreePorts: () => set((state) => ({ benchSelected: freePortPaths(state.benchPorts, state.benchJobs) })),
    clearPortSelection: () => set({ benchSelected: [] }),

    importFirmware: async (files) => {
      if (files.length === 0) return
      const batch: FirmwareImport[] = files.map((file) => ({ id: ++importId, fileName: file.name, size: file.size, state: 'reading', summary: null, error: null }))
      set({ benchImports: batch })
      // One at a time: each request carries a whole image, and the host answers each on its own.
      for (const [index, file] of files.entries()) await importOne(file, batch[index]!.id)
      await get().loadFirmware()
    },

    chooseRecipe: (name) => {
      const recipe = name === null ? undefined : get().benchRecipes.find((item) => item.name === name)
      remember(recipe ? recipe.name : null)
      set({
        benchRecipe: recipe ? recipe.name : null,
        benchDraft: recipe ? draftFromRecipe(recipe) : newDraft(),
        benchRecipeError: null,
        benchRecipeNote: null,
        benchFlashError: null,
      })
      // The core knows which numbers boards already have: start after them.
      if (recipe) {
        void bridge.call('bench.nextSeq', { recipe: recipe.name }).then(
          ({ firstSeq }) => {
            if (get().benchRecipe === recipe.name) set({ benchFirstSeq: firstSeq })
          },
          () => {},
        )
      }
    },
    editRecipe: (change) => editDraft((draft) => ({ ...draft, ...change })),
    addRecipeRegion: () => editDraft((draft) => addRegion(draft, get().benchFirmware)),
    removeRecipeRegion: (key) => editDraft((draft) => removeRegion(draft, key)),
    setRecipeRegionRole: (key, role) => editDraft((draft) => setRegionRole(draft, key, role, get().benchFirmware)),
    setRecipeRegionOffset: (key, text) => editDraft((draft) => setRegionOffset(draft, key, text)),
    setRecipeRegionFile: (key, sha256) => editDraft((draft) => setRegionFile(draft, key, sha256, get().benchFirmware)),

    saveRecipe: async () => {
      const checked = draftToParams(get().benchDraft)
      if (!checked.ok) {
        set({ benchRecipeError: checked.problems.join(' '), benchRecipeNote: null })
        return false
      }
      set({ benchRecipeSaving: true, benchRecipeError: null, benchRecipeNote: null })
      try {
        const saved = await bridge.call('bench.saveRecipe', checked.params)
        remember(saved.name)
        set((state) => ({
          benchRecipes: [...state.benchRecipes.filter((recipe) => recipe.name !== saved.name), saved].sort((a, b) => a.name.localeCompare(b.name)),
          benchRecipe: saved.name,
          benchDraft: draftFromRecipe(saved),
          benchRecipeNote: `Saved "${saved.name}". Flash writes it.`,
          benchFlashError: null,
        }))
        return true
      } catch (error) {
        set({ benchRecipeError: benchErrorText(error, true) })
        return false
      } finally {
        set({ benchRecipeSaving: false })
      }
    },
    deleteRecipe: async (name) => {
      try {
        const { deleted } = await bridge.call('bench.deleteRecipe', { name })
        remember(null)
        // The rows stay on the form: Save brings the recipe back.
        set((state) => ({
          benchRecipes: state.benchRecipes.filter((recipe) => recipe.name !== name),
          benchRecipe: state.benchRecipe === name ? null : state.benchRecipe,
          benchRecipeError: null,
          benchRecipeNote: deleted ? `Deleted "${name}". Its files stay on the form; Save brings it back.` : `"${name}" was already gone.`,
        }))
        return { ok: true, text: `Deleted "${name}".` }
      } catch (error) {
        const text = benchErrorText(error)
        set({ benchRecipeError: `Not deleted: ${text}` })
        return { ok: false, text }
      }
    },

    setNamesFromPlan: (on) => set({ benchNamesFromPlan: on, benchFlashError: null }),
    setFirstSeq: (seq) => set({ benchFirstSeq: Number.isFinite(seq) ? Math.min(99_999_999, Math.max(0, Math.trunc(seq))) : 1 }),
    flash: async () => {
      const state = get()
      const recipe = state.benchRecipe
      const ports = portsToFlash(state.benchSelected, state.benchPorts, state.benchJobs)
      if (!recipe || ports.length === 0 || state.benchFlashing) return
      const serials = state.benchNamesFromPlan ? nextPlannedIds(plannedNodes(state.outputs, state.fleetRows, state.benchJobs), ports.length) : undefined
      if (serials && serials.length < ports.length) {
        set({ benchFlashError: `The site plan has ${serials.length === 0 ? 'no' : `only ${serials.length}`} node${serials.length === 1 ? '' : 's'} left to flash for ${ports.length} board${ports.length === 1 ? '' : 's'}: tick fewer ports, or name the boards by the recipe's pattern.` })
        return
      }
      set({ benchFlashing: true, benchFlashError: null, benchFlashNote: null })
      try {
        const { batchId, jobIds } = await bridge.call('bench.flash', { recipe, ports, firstSeq: state.benchFirstSeq, ...(serials ? { serials } : {}) })
        // The next batch carries on numbering, so no two boards get one identity.
        set((current) => ({
          benchSelected: [],
          benchFirstSeq: serials ? current.benchFirstSeq : current.benchFirstSeq + ports.length,
          benchFlashNote: `Batch ${batchId} started: ${jobIds.length} ${jobIds.length === 1 ? 'board' : 'boards'} with "${recipe}". Follow them under Jobs.`,
        }))
      } catch (error) {
        set({ benchFlashError: benchErrorText(error) })
      } finally {
        set({ benchFlashing: false })
      }
    },
    cancelFlashJob: async (jobId) => {
      try {
        const { cancelled } = await bridge.call('bench.cancel', { jobId })
        return cancelled ? { ok: true, text: 'Stopping… The job can be resumed with its batch.' } : { ok: false, text: 'The job had already stopped.' }
      } catch (error) {
        return { ok: false, text: `Not cancelled: ${benchErrorText(error)}` }
      }
    },
    readBack: async (jobId) => {
      try {
        const { regions } = await bridge.call('bench.readBack', { jobId })
        const differ = regions.filter((region) => !region.matches)
        return differ.length === 0
          ? { ok: true, text: `Read back: all ${regions.length} regions on the board match what was written.` }
          : { ok: false, text: `Read back: ${differ.map((region) => region.fileName).join(', ')} on the board ${differ.length === 1 ? 'differs' : 'differ'} from what was written. Flash the board again.` }
      } catch (error) {
        return { ok: false, text: `Not read back: ${benchErrorText(error)}` }
      }
    },
    resumeBatch: async (batchId) => {
      try {
        const { jobIds } = await bridge.call('bench.resume', { batchId })
        return { ok: true, text: `Batch ${batchId} resumed: ${jobIds.length} ${jobIds.length === 1 ? 'board' : 'boards'} again.` }
      } catch (error) {
        return { ok: false, text: `Not resumed: ${benchErrorText(error)}` }
      }
    },

    setJobLogOpen: (open) => {
      if (open === get().benchJobLog.open) return
      set((state) => ({ benchJobLog: { ...state.benchJobLog, open } }))
      if (open) void get().loadJobLog()
    },
    loadJobLog: async () => {
      if (logInFlight) {
        logAgain = true
        return logInFlight
      }
      const run = async () => {
        do {
          logAgain = false
          await fetchJobLog()
        } while (logAgain)
      }
      logInFlight = run().finally(() => {
        logInFlight = null
      })
      return logInFlight
    },
  }
}

/**
 * A refusal in the console's own words. A host without the bench (an older version) says so plainly;
 * with `issues`, every field the core refused is named, not only the first.
 */
export function benchErrorText(error: unknown, withIssues = false): string {
  if (error instanceof BridgeError) {
    if (error.code === 'UNKNOWN_METHOD') return `This console host does not offer bench flashing (it may be an older version): ${error.message}`
    const issues = error.issues ?? []
    if (withIssues && issues.length > 1) return `${error.message} ${issues.map((issue) => `${issue.path || 'recipe'}: ${issue.message}`).join('; ')}.`
    return error.message
  }
  return error instanceof Error ? error.message : String(error)
}

function remembered(): string | null {
  try {
    return globalThis.localStorage?.getItem(rememberedRecipeKey) ?? null
  } catch {
    return null
  }
}

function remember(name: string | null): void {
  try {
    if (name === null) globalThis.localStorage?.removeItem(rememberedRecipeKey)
    else globalThis.localStorage?.setItem(rememberedRecipeKey, name)
  } catch {
    // Private windows may refuse storage; the choice then lasts until the page reloads.
  }
}
