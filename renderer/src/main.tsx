import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { connectBridge } from './bridge'
import { App, themeStorageKey } from './shell/App'
import { createConsoleStore, StoreContext } from './state/store'
import { syncWithCore } from './state/sync'
import './styles.css'

// Paint in the last theme used before settings arrive, so a control room never gets a white flash.
const lastTheme = localStorage.getItem(themeStorageKey)
if (lastTheme === 'light' || lastTheme === 'dark') document.documentElement.dataset.theme = lastTheme

const bridge = connectBridge()
const store = createConsoleStore(bridge)
syncWithCore(bridge, store)

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <App />
    </StoreContext.Provider>
  </StrictMode>,
)
