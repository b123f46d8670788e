import { useConsole } from '../state/store'

/** Says plainly when what is on screen may be out of date, and what to do about it. */
export function ConnectionBanner() {
  const connection = useConsole((state) => state.connection)
  const store = useConsole((state) => state.services.store)
  if (connection === 'reconnecting') {
    return (
      <div className="banner warn" role="alert">
        The console host is not answering. What you see may be out of date; reconnecting automatically…
      </div>
    )
  }
  if (connection === 'signed-out') {
    return (
      <div className="banner warn" role="alert">
        Your session has ended. <a href="/login">Sign in again</a> to continue.
      </div>
    )
  }
  if (store && store.state !== 'up') {
    return (
      <div className={`banner ${store.state === 'down' ? 'error' : 'warn'}`} role="alert">
        Store {store.state}: {store.detail}
      </div>
    )
  }
  return null
}
