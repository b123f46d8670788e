import { useVirtualizer } from '@tanstack/react-virtual'
import { memo, useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react'
import type { FleetRow } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { formatAgo } from './fleet-format'
import { moveSelection, type FleetSort, type SortColumn } from './fleet-model'
import { StateBadge } from './StateBadge'
import { useNow } from './use-now'

// Fixed heights: the virtualiser never measures, so 10,000 rows cost what the ~30 on screen cost.
// They match .fleet-grid's CSS.
const rowHeight = 32
const headerHeight = 36

const columns: { column: SortColumn; label: string; numeric?: boolean }[] = [
  { column: 'state', label: 'State' },
  { column: 'group', label: 'Group' },
  { column: 'node', label: 'Edge node' },
  { column: 'device', label: 'Device' },
  { column: 'firmware', label: 'Firmware' },
  { column: 'rssi', label: 'RSSI (dBm)', numeric: true },
  { column: 'lastSeen', label: 'Last seen' },
  { column: 'reboots24h', label: 'Reboots 24 h', numeric: true },
  { column: 'protocolErrors', label: 'Protocol errors', numeric: true },
]

/**
 * The fleet as an ARIA grid of virtual rows. Focus stays on the grid; arrow keys move the selection
 * (announced through aria-activedescendant), Enter or a click opens the device.
 */
export function FleetTable(props: { rows: FleetRow[]; focusOnMount: boolean; /** Shown instead of rows when none match. */ children: ReactNode }) {
  const { rows } = props
  const selected = useConsole((state) => state.fleetSelected)
  const select = useConsole((state) => state.selectFleetRow)
  const open = useConsole((state) => state.openFleetDevice)
  const sort = useConsole((state) => state.fleetQuery.sort)
  const sortBy = useConsole((state) => state.sortFleet)
  const now = useNow(1000)
  const grid = useRef<HTMLDivElement>(null)

  // This build does not run the React Compiler, so the virtualiser's unmemoisable API costs nothing here.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => grid.current,
    estimateSize: () => rowHeight,
    getItemKey: (index) => rows[index]!.key,
    overscan: 12,
    // The sticky header sits above the first row inside the same scroller.
    scrollMargin: headerHeight,
    scrollPaddingStart: headerHeight,
  })

  const selectedIndex = selected === null ? -1 : rows.findIndex((row) => row.key === selected)

  // Follow the selection only when it changes, not when live updates re-sort the rows under it.
  useEffect(() => {
    if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' })
    // eslint-disable-next-line react-hooks/exhaustive-deps -- deliberately keyed on the selection alone
  }, [selected])

  useEffect(() => {
    if (props.focusOnMount) grid.current?.focus()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, when coming back from a device
  }, [])

  const onKeyDown = (event: KeyboardEvent) => {
    // Keys on a column header's sort button are the button's own (Enter sorts, not opens).
    if (event.target !== event.currentTarget) return
    const page = Math.max(1, Math.floor((grid.current?.clientHeight ?? 0) / rowHeight) - 2)
    const move =
      event.key === 'ArrowDown' ? 'next'
      : event.key === 'ArrowUp' ? 'previous'
      : event.key === 'PageDown' ? 'pageDown'
      : event.key === 'PageUp' ? 'pageUp'
      : event.key === 'Home' ? 'first'
      : event.key === 'End' ? 'last'
      : null
    if (move) {
      event.preventDefault()
      select(moveSelection(rows.map((row) => row.key), selected, move, page))
    } else if (event.key === 'Enter' && selectedIndex >= 0) {
      event.preventDefault()
      open(selected!)
    }
  }

  const items = virtualizer.getVirtualItems()
  const selectedShown = items.some((item) => item.index === selectedIndex)

  return (
    <div
      ref={grid}
      className="fleet-grid"
      role="grid"
      aria-label="Devices"
      aria-rowcount={rows.length + 1}
      aria-activedescendant={selectedShown ? rowId(selectedIndex) : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
      data-testid="fleet-table"
    >
      <div role="rowgroup" className="fleet-head">
        <div role="row" aria-rowindex={1} className="fleet-row">
          {columns.map((column) => (
            <SortHeader key={column.column} {...column} sort={sort} onSort={sortBy} />
          ))}
        </div>
      </div>
      <div role="rowgroup" className="fleet-body" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => (
          <DeviceRow
            key={item.key}
            row={rows[item.index]!}
            index={item.index}
            top={item.start - headerHeight}
            selected={item.index === selectedIndex}
            now={now}
            onOpen={open}
          />
        ))}
      </div>
      {rows.length === 0 && props.children}
    </div>
  )
}

function SortHeader(props: { column: SortColumn; label: string; numeric?: boolean; sort: FleetSort; onSort(column: SortColumn): void }) {
  const active = props.sort.column === props.column
  return (
    <div role="columnheader" className={props.numeric ? 'numeric' : undefined} aria-sort={active ? props.sort.direction : 'none'}>
      <button type="button" onClick={() => props.onSort(props.column)} title={`Sort by ${props.label}`}>
        {props.label}
        <span className="sort-mark" aria-hidden="true">
          {active ? (props.sort.direction === 'ascending' ? '▲' : '▼') : ''}
        </span>
      </button>
    </div>
  )
}

/** Re-renders only when its row object, its place, its selection or the clock changes. */
const DeviceRow = memo(function DeviceRow(props: { row: FleetRow; index: number; top: number; selected: boolean; now: number; onOpen(key: string): void }) {
  const { row } = props
  return (
    <div
      id={rowId(props.index)}
      role="row"
      aria-rowindex={props.index + 2}
      aria-selected={props.selected}
      className={`fleet-row${props.selected ? ' selected' : ''}`}
      style={{ transform: `translateY(${props.top}px)` }}
      onClick={() => props.onOpen(row.key)}
      data-testid="fleet-row"
      data-key={row.key}
      data-state={row.state}
    >
      <div role="gridcell">
        <StateBadge state={row.state} />
      </div>
      <div role="gridcell">{row.group}</div>
      <div role="gridcell">{row.node}</div>
      <div role="gridcell" className={row.device ? undefined : 'muted'}>
        {row.device || 'edge node'}
      </div>
      <div role="gridcell">{row.firmware || '—'}</div>
      <div role="gridcell" className="numeric">
        {row.rssi ?? '—'}
      </div>
      <div role="gridcell" title={row.lastSeen === null ? undefined : new Date(row.lastSeen).toLocaleString()}>
        {formatAgo(row.lastSeen, props.now)}
      </div>
      <div role="gridcell" className={`numeric${row.reboots24h > 0 ? ' attention' : ''}`}>
        {row.reboots24h}
      </div>
      <div role="gridcell" className={`numeric${row.protocolErrors > 0 ? ' attention' : ''}`}>
        {row.protocolErrors}
      </div>
    </div>
  )
})

const rowId = (index: number) => `fleet-row-${index}`
