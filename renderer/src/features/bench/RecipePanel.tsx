import { useRef, useState, type FormEvent } from 'react'
import { regionRoles, type FirmwareFile } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { ConfirmDialog } from '../fleet/ConfirmDialog'
import { formatOffset } from './bench-model'
import { baudRates, bootloaderHint, chipOfDraft, defaultOffset, draftMatches, offsetWarning, roleLabels, serialPreview, type DraftRegion, type RegionRole } from './recipe-draft'
import { BenchMessage } from './BenchMessage'

/** Choose a saved recipe, or build one: which kept file goes at which offset, identities, speed. */
export function RecipePanel() {
  const recipes = useConsole((state) => state.benchRecipes)
  const recipesError = useConsole((state) => state.benchRecipesError)
  const chosen = useConsole((state) => state.benchRecipe)
  const draft = useConsole((state) => state.benchDraft)
  const firmware = useConsole((state) => state.benchFirmware)
  const firstSeq = useConsole((state) => state.benchFirstSeq)
  const error = useConsole((state) => state.benchRecipeError)
  const note = useConsole((state) => state.benchRecipeNote)
  const saving = useConsole((state) => state.benchRecipeSaving)
  const choose = useConsole((state) => state.chooseRecipe)
  const edit = useConsole((state) => state.editRecipe)
  const addRegion = useConsole((state) => state.addRecipeRegion)
  const removeRegion = useConsole((state) => state.removeRecipeRegion)
  const save = useConsole((state) => state.saveRecipe)
  const deleteRecipe = useConsole((state) => state.deleteRecipe)
  const [added, setAdded] = useState<number | null>(null)
  const [confirmDelete, setConfirmDelete] = useState(false)
  const addButton = useRef<HTMLButtonElement>(null)

  const saved = recipes.find((recipe) => recipe.name === chosen)
  const unsaved = saved !== undefined && !draftMatches(draft, saved)
  const chip = chipOfDraft(draft, firmware)
  const preview = serialPreview(draft.serialPattern, firstSeq)
  const replaces = draft.name.trim() !== '' && draft.name.trim() !== chosen && recipes.some((recipe) => recipe.name === draft.name.trim())

  const submit = (event: FormEvent) => {
    event.preventDefault()
    // Saving renumbers the rows; none of them is "just added" any more.
    setAdded(null)
    void save()
  }

  return (
    <section className="bench-panel bench-recipe" aria-labelledby="bench-recipe-title">
      <div className="bench-panel-head">
        <h3 id="bench-recipe-title">Recipe</h3>
        {unsaved && (
          <span className="bench-unsaved" role="status">
            unsaved changes
          </span>
        )}
      </div>
      <label className="bench-field">
        Saved recipe
        <select
          value={chosen ?? ''}
          onChange={(event) => {
            setAdded(null)
            choose(event.target.value || null)
          }}
          data-testid="recipe-select"
        >
          <option value="">New recipe…</option>
          {recipes.map((recipe) => (
            <option key={recipe.name} value={recipe.name}>
              {recipe.name}
            </option>
          ))}
        </select>
      </label>
      {recipesError && (
        <p className="error bench-message" role="alert">
          The saved recipes could not be listed: {recipesError}
        </p>
      )}
      <form onSubmit={submit} noValidate aria-label="Recipe">
        <label className="bench-field">
          Name
          <input value={draft.name} maxLength={80} onChange={(event) => edit({ name: event.target.value })} placeholder="e.g. pump-controller 2.1 (4 MB)" data-testid="recipe-name" />
          {replaces && <span className="attention bench-replaces">Saving replaces the saved recipe of this name.</span>}
        </label>
        <fieldset className="bench-regions">
          <legend>Files and where they go</legend>
          <ol className="bench-region-list">
            {draft.regions.map((region, index) => (
              <RegionRow
                key={region.key}
                region={region}
                index={index}
                firmware={firmware}
                chip={chip}
                autoFocus={region.key === added}
                onRemove={() => {
                  removeRegion(region.key)
                  addButton.current?.focus()
                }}
              />
            ))}
          </ol>
          {draft.regions.length === 0 && <p className="muted">No files: add at least one.</p>}
          <button
            ref={addButton}
            type="button"
            onClick={() => {
              setAdded(draft.nextKey)
              addRegion()
            }}
            disabled={draft.regions.length >= 16}
            data-testid="recipe-add-region"
          >
            Add a file
          </button>
          {firmware.length === 0 && <p className="hint">Import the files under Firmware first; they are chosen here by name.</p>}
        </fieldset>
        <div className="bench-recipe-grid">
          <label className="bench-field">
            Serial-number pattern <span className="hint">{'{seq}'} or {'{seq:4}'} becomes each board&apos;s number</span>
            <input value={draft.serialPattern} maxLength={40} spellCheck={false} onChange={(event) => edit({ serialPattern: event.target.value })} aria-describedby="bench-serial-preview" data-testid="serial-pattern" />
          </label>
          <label className="bench-field">
            Baud
            <select value={draft.baud} onChange={(event) => edit({ baud: Number(event.target.value) })} data-testid="recipe-baud">
              {baudRates.map((rate) => (
                <option key={rate} value={rate}>
                  {rate.toLocaleString()}
                </option>
              ))}
            </select>
          </label>
        </div>
        <p id="bench-serial-preview" className={preview.ok ? 'bench-preview' : 'bench-preview error'} aria-live="polite" data-testid="serial-preview">
          {preview.ok ? (
            <>
              First boards: <strong>{preview.serials[0]}</strong>, <strong>{preview.serials[1]}</strong>, …
            </>
          ) : (
            preview.error
          )}
        </p>
        <p className="hint">A slower baud helps with long cables and some USB hubs; the board starts at 115,200 and switches once the flasher runs.</p>
        <BenchMessage error={error} note={note} errorTestId="recipe-error" />
        <div className="button-row">
          <button type="submit" disabled={saving} data-testid="recipe-save">
            {saving ? 'Checking…' : 'Save recipe'}
          </button>
          {saved && (
            <button type="button" onClick={() => setConfirmDelete(true)} data-testid="recipe-delete">
              Delete recipe…
            </button>
          )}
        </div>
        <p className="hint">The console checks a recipe when it is saved (overlaps, partition table, app images) and again against each board before writing.</p>
      </form>
      {confirmDelete && saved && (
        <ConfirmDialog
          title="Delete recipe"
          sentence={`Delete the recipe "${saved.name}"? Its files stay kept; jobs already logged keep its name.`}
          confirmLabel="Delete"
          onConfirm={async () => {
            await deleteRecipe(saved.name)
            setConfirmDelete(false)
          }}
          onCancel={() => setConfirmDelete(false)}
        />
      )}
    </section>
  )
}

function RegionRow(props: { region: DraftRegion; index: number; firmware: readonly FirmwareFile[]; chip: string | null; autoFocus: boolean; onRemove(): void }) {
  const { region, index, firmware } = props
  const setRole = useConsole((state) => state.setRecipeRegionRole)
  const setOffset = useConsole((state) => state.setRecipeRegionOffset)
  const setFile = useConsole((state) => state.setRecipeRegionFile)
  const n = index + 1
  const hintId = `bench-region-hint-${region.key}`
  const warning = offsetWarning(region.offsetText)
  const file = firmware.find((item) => item.sha256 === region.sha256)
  const usual = defaultOffset(region.role, props.chip)

  return (
    <li className="bench-region" data-testid="recipe-region">
      {/* The file first: choosing it also fills in its role and usual offset. */}
      <label className="bench-mini bench-region-file-field">
        File {n}
        <select value={region.sha256} onChange={(event) => setFile(region.key, event.target.value)} aria-describedby={hintId} autoFocus={props.autoFocus} data-testid="recipe-region-file">
          <option value="">Choose a kept file…</option>
          {firmware.map((item) => (
            <option key={item.sha256} value={item.sha256}>
              {item.fileName} — {item.summary}
            </option>
          ))}
          {region.sha256 && !file && <option value={region.sha256}>{region.sha256.slice(0, 12)}… (not in the kept files any more)</option>}
        </select>
      </label>
      <label className="bench-mini">
        Role
        <select value={region.role} onChange={(event) => setRole(region.key, event.target.value as RegionRole)} aria-label={`File ${n}: role`} data-testid="recipe-region-role">
          {regionRoles.map((role) => (
            <option key={role} value={role}>
              {roleLabels[role]}
            </option>
          ))}
        </select>
      </label>
      <label className="bench-mini">
        Offset
        <input
          value={region.offsetText}
          onChange={(event) => setOffset(region.key, event.target.value)}
          spellCheck={false}
          autoComplete="off"
          placeholder={usual === null ? '0x…' : formatOffset(usual)}
          aria-label={`File ${n}: offset`}
          aria-invalid={warning !== null && region.offsetText.trim() !== ''}
          aria-describedby={hintId}
          className="mono"
          data-testid="recipe-region-offset"
        />
      </label>
      <button type="button" className="bench-region-remove" onClick={props.onRemove} aria-label={`Remove file ${n}`} title={`Remove file ${n}`} data-testid="recipe-remove-region">
        Remove
      </button>
      <p id={hintId} className={`bench-region-hint ${warning && region.offsetText.trim() !== '' ? 'attention' : 'hint'}`}>
        {warning && region.offsetText.trim() !== ''
          ? warning
          : region.role === 'bootloader'
            ? `${bootloaderHint}${props.chip ? ` These files are for ${props.chip}: ${formatOffset(defaultOffset('bootloader', props.chip) ?? 0)}.` : ''}`
            : file
              ? file.summary
              : usual !== null
                ? `Usually at ${formatOffset(usual)}.`
                : 'Give the offset of its partition.'}
      </p>
    </li>
  )
}
