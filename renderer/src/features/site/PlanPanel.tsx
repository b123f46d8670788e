import { useRef, useState, type KeyboardEvent, type ReactNode } from 'react'
import type { SiteVersion } from '../../../../shared/contract'
import { PlanCatalogue } from './PlanCatalogue'
import { PlanCoverage } from './PlanCoverage'
import { PlanDevices } from './PlanDevices'
import { PlanExports } from './PlanExports'
import { PlanNetworkPower } from './PlanNetworkPower'
import { PlanPlacement } from './PlanPlacement'
import { SiteReport } from './SiteReport'

type TabId = 'import' | 'coverage' | 'placement' | 'network' | 'devices' | 'exports' | 'catalogue'

const tabs: readonly { id: TabId; label: string }[] = [
  { id: 'import', label: 'Import' },
  { id: 'coverage', label: 'Coverage' },
  { id: 'placement', label: 'Placement' },
  { id: 'network', label: 'Network & power' },
  { id: 'devices', label: 'Devices & BOM' },
  { id: 'exports', label: 'Exports' },
  { id: 'catalogue', label: 'Catalogue' },
]

/**
 * Everything worked out from the plan, beside the map, one tab at a time (arrow keys move between tabs).
 * Panels stay mounted while hidden, so a half-typed catalogue or a chosen cell size survives a look elsewhere.
 */
export function PlanPanel({ site }: { site: SiteVersion }) {
  const [current, setCurrent] = useState<TabId>('import')
  const buttons = useRef<Partial<Record<TabId, HTMLButtonElement | null>>>({})
  // One grid for coverage and placement: the gaps placement closes are the blind spots coverage showed.
  const [cellSizeM, setCellSizeM] = useState(1)

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.findIndex((tab) => tab.id === current)
    const next = { ArrowRight: index + 1, ArrowDown: index + 1, ArrowLeft: index - 1, ArrowUp: index - 1, Home: 0, End: tabs.length - 1 }[event.key]
    if (next === undefined) return
    event.preventDefault()
    const tab = tabs[(next + tabs.length) % tabs.length]!
    setCurrent(tab.id)
    buttons.current[tab.id]?.focus()
  }

  const panels: Record<TabId, ReactNode> = {
    import: <SiteReport site={site} />,
    coverage: <PlanCoverage cellSizeM={cellSizeM} onCellSize={setCellSizeM} />,
    placement: <PlanPlacement cellSizeM={cellSizeM} />,
    network: <PlanNetworkPower />,
    devices: <PlanDevices />,
    exports: <PlanExports />,
    catalogue: <PlanCatalogue />,
  }

  return (
    <div className="site-plan-panel">
      <div className="site-plan-tabs" role="tablist" aria-label="Site plan" onKeyDown={onKeyDown}>
        {tabs.map((tab) => (
          <button
            key={tab.id}
            ref={(element) => {
              buttons.current[tab.id] = element
            }}
            type="button"
            role="tab"
            id={`site-plan-tab-${tab.id}`}
            aria-selected={current === tab.id}
            aria-controls={`site-plan-tabpanel-${tab.id}`}
            tabIndex={current === tab.id ? 0 : -1}
            onClick={() => setCurrent(tab.id)}
            data-testid={`site-plan-tab-${tab.id}`}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {tabs.map((tab) => (
        <div key={tab.id} className="site-plan-tabpanel" role="tabpanel" id={`site-plan-tabpanel-${tab.id}`} aria-labelledby={`site-plan-tab-${tab.id}`} hidden={current !== tab.id} tabIndex={0}>
          {panels[tab.id]}
        </div>
      ))}
    </div>
  )
}
