import { useEffect, useRef, useState, type ComponentType } from 'react'
import { AlarmsSection } from '../features/alarms/AlarmsSection'
import { BenchSection } from '../features/bench/BenchSection'
import { FleetSection } from '../features/fleet/FleetSection'
import { SettingsSection } from '../features/settings/SettingsSection'
import { SiteSection } from '../features/site/SiteSection'
import { UpdatesSection } from '../features/updates/UpdatesSection'
import { useConsole } from '../state/store'
import { ConnectionBanner } from './ConnectionBanner'
import { Navigation } from './Navigation'
import { sectionIds, sectionLabels, type SectionId } from './sections'
import { ShortcutHelp } from './ShortcutHelp'
import { StatusBar } from './StatusBar'

const screens: Record<SectionId, ComponentType> = {
  site: SiteSection,
  bench: BenchSection,
  fleet: FleetSection,
  updates: UpdatesSection,
  alarms: AlarmsSection,
  settings: SettingsSection,
}

export const themeStorageKey = 'console-theme'

export function App() {
  const section = useConsole((state) => state.section)
  const showSection = useConsole((state) => state.showSection)
  const theme = useConsole((state) => state.settings?.theme)
  const siteName = useConsole((state) => state.settings?.siteName)
  const saveSettings = useConsole((state) => state.saveSettings)
  const [helpOpen, setHelpOpen] = useState(false)
  const main = useRef<HTMLElement>(null)
  const Screen = screens[section]

  useEffect(() => {
    if (!theme) return
    document.documentElement.dataset.theme = theme
    localStorage.setItem(themeStorageKey, theme)
  }, [theme])

  useEffect(() => {
    document.title = `${sectionLabels[section]} · ESP Fleet Console`
  }, [section])

  const toggleTheme = () => void saveSettings({ theme: document.documentElement.dataset.theme === 'light' ? 'dark' : 'light' })

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return
      const index = Number(event.key) - 1
      const id = sectionIds[index]
      if (id) {
        event.preventDefault()
        showSection(id)
        main.current?.focus()
      } else if (event.key === '?') {
        setHelpOpen(true)
      } else if (event.key === 't') {
        toggleTheme()
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  })

  return (
    <div className="shell">
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header className="top-bar">
        <h1>
          ESP Fleet Console{siteName ? <span className="site-name"> · {siteName}</span> : null}
        </h1>
        <div className="top-actions">
          <button type="button" onClick={toggleTheme} aria-label="Switch theme" title="Switch theme (t)">
            {theme === 'light' ? 'Dark theme' : 'Light theme'}
          </button>
          <button type="button" onClick={() => setHelpOpen(true)} title="Keyboard shortcuts (?)">
            Keys
          </button>
        </div>
      </header>
      <Navigation />
      <main id="main" ref={main} tabIndex={-1} aria-label={sectionLabels[section]}>
        <ConnectionBanner />
        <Screen />
      </main>
      <StatusBar />
      {helpOpen && <ShortcutHelp onClose={() => setHelpOpen(false)} />}
    </div>
  )
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
}
