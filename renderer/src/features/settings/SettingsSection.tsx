import { useState, type FormEvent } from 'react'
import type { PublicSettings } from '../../../../shared/contract'

type Editable = Omit<PublicSettings, 'secretsSet'>
import { useConsole } from '../../state/store'

export function SettingsSection() {
  return (
    <div className="settings">
      <h2>Settings</h2>
      <SettingsForm />
      <ServicesPanel />
      <AuditPanel />
    </div>
  )
}

function SettingsForm() {
  const settings = useConsole((state) => state.settings)
  const error = useConsole((state) => state.settingsError)
  const save = useConsole((state) => state.saveSettings)
  // Only the fields being edited are local; the rest follows the core, so a change made in another
  // window shows here at once.
  const [edits, setEdits] = useState<Partial<Editable>>({})
  const [saved, setSaved] = useState(false)
  if (!settings) return <p>Loading settings…</p>

  const draft: Editable = { ...settings, ...edits }
  const changed = (Object.keys(edits) as (keyof Editable)[]).filter((key) => draft[key] !== settings[key])
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSaved(false)
    if (await save(Object.fromEntries(changed.map((key) => [key, draft[key]])))) {
      setEdits({})
      setSaved(true)
    }
  }
  const field = <K extends keyof Editable>(key: K, value: Editable[K]) => {
    setSaved(false)
    setEdits({ ...edits, [key]: value })
  }

  return (
    <form className="panel" onSubmit={submit} aria-labelledby="settings-general" noValidate>
      <h3 id="settings-general">General</h3>
      <label>
        Site name
        <input value={draft.siteName} maxLength={120} onChange={(e) => field('siteName', e.target.value)} placeholder="e.g. North plant, hall 3" />
      </label>
      <label>
        Operator name <span className="hint">recorded in the audit log for actions taken here</span>
        <input value={draft.operatorName} maxLength={64} onChange={(e) => field('operatorName', e.target.value)} placeholder="defaults to the computer's user name" />
      </label>
      <label>
        Screen updates per second <span className="hint">1–10; lower is lighter on slow machines</span>
        <input type="number" min={1} max={10} step={1} value={draft.pushRateHz} onChange={(e) => field('pushRateHz', Number(e.target.value))} />
      </label>
      <label>
        Sign-in lasts (hours) <span className="hint">for the headless host on the network</span>
        <input type="number" min={0.25} max={72} step={0.25} value={draft.sessionHours} onChange={(e) => field('sessionHours', Number(e.target.value))} />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {saved && <p role="status">Saved.</p>}
      <button type="submit" disabled={changed.length === 0}>
        Save settings
      </button>
    </form>
  )
}

function ServicesPanel() {
  const services = useConsole((state) => state.services)
  const health = useConsole((state) => state.health)
  return (
    <section className="panel" aria-labelledby="settings-services">
      <h3 id="settings-services">Services</h3>
      {health && (
        <p>
          {health.product} {health.version}, {health.host.kind === 'electron' ? 'desktop' : 'headless host'}
        </p>
      )}
      <dl className="services">
        {Object.entries(services).map(([name, service]) => (
          <div key={name} className={`service state-${service.state}`}>
            <dt>{name}</dt>
            <dd>
              <strong>{service.state}</strong> — {service.detail}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  )
}

function AuditPanel() {
  const audit = useConsole((state) => state.audit)
  return (
    <section className="panel" aria-labelledby="settings-audit">
      <h3 id="settings-audit">Audit log</h3>
      {audit.length === 0 ? (
        <p>No operator actions yet. Every change made in this console will be listed here: who, what, when and the outcome.</p>
      ) : (
        <table className="audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {audit.map((entry) => (
              <tr key={entry.id} title={entry.detail}>
                <td>{new Date(entry.at).toLocaleString()}</td>
                <td>{entry.actor}</td>
                <td>{entry.action}</td>
                <td>{entry.target}</td>
                <td>{entry.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
