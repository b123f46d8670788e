import { typicalAttenuationDb, type ObstructionMaterial, type ZoneKind } from '../../../../shared/domain/site/model'
import { useConsole } from '../../state/store'
import { outlineNouns } from './map-edit'
import type { MapDraft } from './map-plan-editor'
import type { SiteSelection, SiteTool } from './plan-state'

interface ToolButton {
  tool: SiteTool
  label: string
  /** The shortcut, as printed on the key. */
  key: string
  /** What to do with the tool on, in one sentence. */
  hint: string
}

export const siteTools: readonly ToolButton[] = [
  { tool: 'select', label: 'Select', key: 'V', hint: 'Click an item to select it. Drag a mounting point, a wall or a corner to move it; a zone or a building once selected.' },
  { tool: 'add-mounting-point', label: 'Mounting point', key: 'M', hint: 'Click where a mounting point goes; it snaps to corners and walls nearby. Escape stops.' },
  { tool: 'add-wall', label: 'Wall', key: 'W', hint: 'Click one end of the wall, then the other: concrete, blocking sight. Escape stops.' },
  { tool: 'add-zone', label: 'Zone', key: 'Z', hint: 'Click the corners of a zone to be watched; click the first corner or press Enter to close it. Escape stops.' },
  { tool: 'add-obstruction', label: 'Obstruction', key: 'O', hint: 'Click the corners of a building or another solid obstruction (concrete); click the first corner or press Enter to close it. Escape stops.' },
]

const nouns: Record<SiteSelection['collection'], string> = { zones: 'zone', obstructions: 'obstruction', mountingPoints: 'mounting point', devices: 'device' }

/** What each kind of zone asks of coverage, in the planner's words (model.ts). */
const zoneKinds: Record<ZoneKind, string> = {
  required: 'required: every part must be seen',
  optional: 'optional: counted, never a gap',
  excluded: 'excluded: not part of the plan',
}

const materials = Object.keys(typicalAttenuationDb) as ObstructionMaterial[]

/** How the shape in hand stands: what the next click does, or nothing to add when there is none. */
function draftHint(draft: MapDraft): string {
  if (draft.tool === 'add-wall') return 'Click the other end of the wall. Escape drops it.'
  const corners = `${draft.corners} ${draft.corners === 1 ? 'corner' : 'corners'}`
  const next = draft.corners >= 3 ? 'click the first one or press Enter to close it' : 'click the next one'
  return `${outlineNouns[draft.tool][0]!.toUpperCase()}${outlineNouns[draft.tool].slice(1)}, ${corners}: ${next}; Backspace takes one back, Escape drops it.`
}

/**
 * The map's editing tools over its top-left corner, and under them what the selected zone or obstruction
 * is. Each button names its key; the keys themselves are handled by the map frame (SiteMap.tsx), so they
 * work wherever the focus is on the map.
 */
export function SiteEditToolbar({ onDelete, draft }: { onDelete: () => void; draft: MapDraft | null }) {
  const tool = useConsole((state) => state.siteTool)
  const setTool = useConsole((state) => state.setSiteTool)
  const selection = useConsole((state) => state.siteSelection)
  const inHand = draft && draft.tool === tool ? draft : null
  const hint = inHand ? draftHint(inHand) : selection && tool === 'select' ? `Selected: ${nouns[selection.collection]} ${selection.id}. Delete removes it; Escape lets go.` : siteTools.find((t) => t.tool === tool)?.hint

  return (
    <div className="site-edit-toolbar">
      <div role="toolbar" aria-label="Map editing tools" className="site-edit-tools">
        {siteTools.map((button) => (
          <button
            key={button.tool}
            type="button"
            aria-pressed={tool === button.tool}
            aria-keyshortcuts={button.key}
            title={`${button.label} (${button.key})`}
            onClick={() => setTool(button.tool)}
            data-testid={`site-tool-${button.tool}`}
          >
            {button.label} <kbd>{button.key}</kbd>
          </button>
        ))}
        <button type="button" onClick={onDelete} disabled={!selection} aria-keyshortcuts="Delete" title="Delete the selection (Delete)" data-testid="site-delete-selection">
          Delete
        </button>
      </div>
      <p className="site-edit-hint" aria-live="polite" data-testid="site-edit-hint">
        {hint}
      </p>
      {inHand?.problem && (
        <p className="site-edit-problem error" role="alert" data-testid="site-edit-problem">
          {inHand.problem}
        </p>
      )}
      {tool === 'select' && selection && <SelectedItem selection={selection} />}
    </div>
  )
}

/** The one choice a drawn item is made with and may need changed: a zone's kind, an obstruction's material. */
function SelectedItem({ selection }: { selection: SiteSelection }) {
  const editPlan = useConsole((state) => state.editPlan)
  const zoneKind = useConsole((state) => (selection.collection === 'zones' ? state.planHistory?.site.zones.find((z) => z.id === selection.id)?.kind : undefined))
  const material = useConsole((state) => (selection.collection === 'obstructions' ? state.planHistory?.site.obstructions.find((o) => o.id === selection.id)?.material : undefined))
  if (!zoneKind && !material) return null
  return (
    <div className="site-edit-selection" data-testid="site-edit-selection">
      {zoneKind && (
        <label>
          Zone {selection.id}
          <select value={zoneKind} onChange={(event) => editPlan({ op: 'update', collection: 'zones', id: selection.id, changes: { kind: event.target.value as ZoneKind } })} data-testid="site-edit-zone-kind">
            {(Object.keys(zoneKinds) as ZoneKind[]).map((kind) => (
              <option key={kind} value={kind}>
                {zoneKinds[kind]}
              </option>
            ))}
          </select>
        </label>
      )}
      {material && (
        <label>
          Obstruction {selection.id}
          <select
            value={material}
            // The material brings its typical loss, and a fence's mesh is seen through: as the importer has them.
            onChange={(event) => {
              const chosen = event.target.value as ObstructionMaterial
              editPlan({ op: 'update', collection: 'obstructions', id: selection.id, changes: { material: chosen, attenuationDb: typicalAttenuationDb[chosen], blocksSight: chosen !== 'fence' } })
            }}
            data-testid="site-edit-material"
          >
            {materials.map((option) => (
              <option key={option} value={option}>
                {option}, {typicalAttenuationDb[option]} dB
              </option>
            ))}
          </select>
        </label>
      )}
    </div>
  )
}
