import { useConsole } from '../../state/store'
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
  { tool: 'select', label: 'Select', key: 'V', hint: 'Click an item to select it; drag a mounting point or a corner to move it.' },
  { tool: 'add-mounting-point', label: 'Mounting point', key: 'M', hint: 'Click where a mounting point goes; it snaps to corners and walls nearby. Escape stops.' },
  { tool: 'add-wall', label: 'Wall', key: 'W', hint: 'Click one end of the wall, then the other: concrete, blocking sight. Escape stops.' },
]

const nouns: Record<SiteSelection['collection'], string> = { zones: 'zone', obstructions: 'obstruction', mountingPoints: 'mounting point', devices: 'device' }

/**
 * The map's editing tools over its top-left corner. Each button names its key; the keys themselves are
 * handled by the map frame (SiteMap.tsx), so they work wherever the focus is on the map.
 */
export function SiteEditToolbar({ onDelete }: { onDelete: () => void }) {
  const tool = useConsole((state) => state.siteTool)
  const setTool = useConsole((state) => state.setSiteTool)
  const selection = useConsole((state) => state.siteSelection)
  const hint = selection && tool === 'select' ? `Selected: ${nouns[selection.collection]} ${selection.id}. Delete removes it; Escape lets go.` : siteTools.find((t) => t.tool === tool)?.hint

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
    </div>
  )
}
