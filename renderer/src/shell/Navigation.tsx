import { useRef, type KeyboardEvent } from 'react'
import { useConsole } from '../state/store'
import { sectionIds, sectionLabels } from './sections'

/** The sections as one tab stop: arrow keys move between them, Home and End jump to the ends. */
export function Navigation() {
  const section = useConsole((state) => state.section)
  const showSection = useConsole((state) => state.showSection)
  const links = useRef<(HTMLAnchorElement | null)[]>([])

  const onKeyDown = (event: KeyboardEvent, index: number) => {
    const last = sectionIds.length - 1
    const target =
      event.key === 'ArrowDown' ? (index === last ? 0 : index + 1)
      : event.key === 'ArrowUp' ? (index === 0 ? last : index - 1)
      : event.key === 'Home' ? 0
      : event.key === 'End' ? last
      : null
    if (target === null) return
    event.preventDefault()
    links.current[target]?.focus()
  }

  return (
    <nav className="navigation" aria-label="Sections">
      <ul>
        {sectionIds.map((id, index) => (
          <li key={id}>
            <a
              ref={(element) => {
                links.current[index] = element
              }}
              href={`#/${id}`}
              aria-current={section === id ? 'page' : undefined}
              tabIndex={section === id ? 0 : -1}
              onClick={(event) => {
                event.preventDefault()
                showSection(id)
              }}
              onKeyDown={(event) => onKeyDown(event, index)}
            >
              <kbd aria-hidden="true">{index + 1}</kbd>
              {sectionLabels[id]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  )
}
