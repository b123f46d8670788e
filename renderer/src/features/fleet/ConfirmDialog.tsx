import { useEffect, useRef, useState, type KeyboardEvent } from 'react'

/**
 * Asks before anything is sent to a device, in the exact words of what will be sent. Modal and
 * focus-trapped; Cancel has the focus first, Escape cancels, and keys never reach the shell behind it.
 */
export function ConfirmDialog(props: { title: string; sentence: string; confirmLabel: string; onConfirm(): Promise<void>; onCancel(): void }) {
  const dialog = useRef<HTMLDialogElement>(null)
  const cancel = useRef<HTMLButtonElement>(null)
  const [sending, setSending] = useState(false)

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    const element = dialog.current
    if (element && !element.open) element.showModal()
    cancel.current?.focus()
    return () => {
      element?.close()
      if (opener?.isConnected) opener.focus()
    }
  }, [])

  const cancelUnlessSending = () => {
    if (!sending) props.onCancel()
  }

  const onKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    // Digits and "t" switch sections and themes in the shell; not while a command waits for a yes.
    event.stopPropagation()
    if (event.key === 'Escape') {
      event.preventDefault()
      cancelUnlessSending()
    } else if (event.key === 'Tab') {
      trapFocus(event)
    }
  }

  const send = async () => {
    setSending(true)
    try {
      await props.onConfirm()
    } finally {
      setSending(false)
    }
  }

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-sentence"
      onKeyDown={onKeyDown}
      onCancel={(event) => {
        event.preventDefault()
        cancelUnlessSending()
      }}
      data-testid="confirm-dialog"
    >
      <h2 id="confirm-title">{props.title}</h2>
      <p id="confirm-sentence" className="command-sentence">
        {props.sentence}
      </p>
      <p className="hint">The command is recorded in the audit log with your name.</p>
      <div className="dialog-actions">
        <button ref={cancel} type="button" onClick={cancelUnlessSending} disabled={sending}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={() => void send()} disabled={sending} data-testid="confirm-send">
          {sending ? 'Sending…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  )
}

function trapFocus(event: KeyboardEvent<HTMLDialogElement>) {
  const focusable = [...event.currentTarget.querySelectorAll<HTMLElement>('button, input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (element) => !(element as HTMLButtonElement).disabled,
  )
  const first = focusable[0]
  const last = focusable[focusable.length - 1]
  if (!first || !last) {
    event.preventDefault()
    return
  }
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault()
    last.focus()
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault()
    first.focus()
  }
}
