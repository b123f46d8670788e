import { useEffect, useMemo, useRef, useState } from 'react'
import { EmptyState } from '../../shell/EmptyState'
import { useConsole } from '../../state/store'
import { DeviceView } from './DeviceView'
import { createVisibleRowsSelector, groupsOf } from './fleet-model'
import { FleetTable } from './FleetTable'
import { PlannedStrip } from './PlannedStrip'
import { StateChips } from './StateChips'

export function FleetSection() {
  const hasRows = useConsole((state) => hasAny(state.fleetRows))
  const deviceOpen = useConsole((state) => state.fleetDevice !== null)
  const close = useConsole((state) => state.closeFleetDevice)
  // Back from a device, the grid takes focus again so the arrow keys carry on where they were.
  const [cameBack, setCameBack] = useState(false)

  if (deviceOpen) {
    return (
      <DeviceView
        onBack={() => {
          setCameBack(true)
          close()
        }}
      />
    )
  }
  return hasRows ? <FleetOverview focusTable={cameBack} /> : <NoDevicesYet />
}

function FleetOverview(props: { focusTable: boolean }) {
  const rows = useConsole((state) => state.fleetRows)
  const query = useConsole((state) => state.fleetQuery)
  const visible = useMemo(() => createVisibleRowsSelector(), [])(rows, query)
  const total = useMemo(() => Object.keys(rows).length, [rows])

  return (
    <section className="fleet" aria-labelledby="fleet-title">
      <header className="fleet-header">
        <h2 id="fleet-title">Fleet</h2>
        <StateChips />
      </header>
      <PlannedStrip />
      <FleetToolbar shown={visible.length} total={total} />
      <FleetTable rows={visible} focusOnMount={props.focusTable}>
        <NoMatch />
      </FleetTable>
    </section>
  )
}

function FleetToolbar(props: { shown: number; total: number }) {
  const text = useConsole((state) => state.fleetQuery.text)
  const group = useConsole((state) => state.fleetQuery.group)
  const setText = useConsole((state) => state.setFleetText)
  const setGroup = useConsole((state) => state.setFleetGroup)
  const rows = useConsole((state) => state.fleetRows)
  const groups = useMemo(() => groupsOf(rows), [rows])
  const filter = useRef<HTMLInputElement>(null)

  // "/" jumps to the filter from anywhere in the section, as in most consoles and code hosts.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return
      event.preventDefault()
      filter.current?.focus()
      filter.current?.select()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])

  return (
    <div className="fleet-toolbar">
      <label className="fleet-filter">
        <span className="visually-hidden">Filter devices</span>
        <input
          ref={filter}
          type="search"
          value={text}
          placeholder="Filter by group, node, device or firmware  ( / )"
          onChange={(event) => setText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Escape' && text) {
              event.preventDefault()
              setText('')
            }
          }}
          aria-keyshortcuts="/"
          data-testid="fleet-filter"
        />
      </label>
      <label className="fleet-group">
        Group
        <select value={group} onChange={(event) => setGroup(event.target.value)}>
          <option value="">All groups</option>
          {groups.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <span className="fleet-shown">
        {props.shown === props.total ? `${props.total} devices` : `${props.shown} of ${props.total} devices`}
      </span>
      <span className="hint fleet-keys">
        <kbd>↑</kbd> <kbd>↓</kbd> select · <kbd>Enter</kbd> open
      </span>
    </div>
  )
}

function NoMatch() {
  const setText = useConsole((state) => state.setFleetText)
  const setState = useConsole((state) => state.setFleetStateFilter)
  const setGroup = useConsole((state) => state.setFleetGroup)
  return (
    <div className="fleet-no-match">
      <p>No device matches these filters.</p>
      <button
        type="button"
        onClick={() => {
          setText('')
          setState('all')
          setGroup('')
        }}
      >
        Show every device
      </button>
    </div>
  )
}

/** What the section will hold and the two ways to fill it. */
function NoDevicesYet() {
  const broker = useConsole((state) => state.services.broker)
  const settings = useConsole((state) => state.settings)
  const saveSettings = useConsole((state) => state.saveSettings)
  const showSection = useConsole((state) => state.showSection)
  const demoOn = settings?.demoFleet === true

  return (
    <EmptyState
      title="Fleet"
      holds="Every edge node and device that reports over MQTT / Sparkplug B, live: online, offline, stale or silent, with firmware, signal strength, reboots and protocol errors, and the commands you can send it."
      status={broker ? `Broker: ${broker.detail}` : 'Waiting for the console host…'}
      start={
        <ol className="fleet-start">
          <li>
            {demoOn ? (
              <>The demo fleet is on; its virtual nodes appear here as soon as they send their births.</>
            ) : (
              <>
                Try it with a virtual fleet:{' '}
                <button type="button" onClick={() => void saveSettings({ demoFleet: true })} disabled={!settings}>
                  Turn on the demo fleet
                </button>{' '}
                (also in{' '}
                <a
                  href="#/settings"
                  onClick={(event) => {
                    event.preventDefault()
                    showSection('settings')
                  }}
                >
                  Settings
                </a>
                ).
              </>
            )}
          </li>
          <li>
            Or point your devices' Sparkplug B clients at the console's broker, shown in the status bar and in Settings
            {broker?.state === 'up' ? <>: {broker.detail}</> : <> (not running yet: set it up in Settings)</>}.
            {' '}Each device appears here when its edge node publishes its birth certificate
            {settings ? (
              <>
                {' '}
                with the console as primary host <code>{settings.sparkplugHostId}</code>
              </>
            ) : null}
            .
          </li>
        </ol>
      }
    />
  )
}

function hasAny(rows: object): boolean {
  for (const _ in rows) return true
  return false
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
}
