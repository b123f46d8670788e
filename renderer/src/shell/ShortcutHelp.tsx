import { useEffect, useRef } from 'react'
import { sectionIds, sectionLabels } from './sections'

export function ShortcutHelp(props: { onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    dialog.current?.showModal()
  }, [])
  return (
    <dialog ref={dialog} className="shortcut-help" aria-labelledby="shortcut-title" onClose={props.onClose}>
      <h2 id="shortcut-title">Keyboard</h2>
      <dl>
        {sectionIds.map((id, index) => (
          <div key={id}>
            <dt>
              <kbd>{index + 1}</kbd>
            </dt>
            <dd>{sectionLabels[id]}</dd>
          </div>
        ))}
        <div>
          <dt>
            <kbd>↑</kbd> <kbd>↓</kbd>
          </dt>
          <dd>Move between sections in the side bar</dd>
        </div>
        <div>
          <dt>
            <kbd>t</kbd>
          </dt>
          <dd>Switch between dark and light theme</dd>
        </div>
        <div>
          <dt>
            <kbd>?</kbd>
          </dt>
          <dd>This help</dd>
        </div>
      </dl>
      <form method="dialog">
        <button autoFocus>Close</button>
      </form>
    </dialog>
  )
}
