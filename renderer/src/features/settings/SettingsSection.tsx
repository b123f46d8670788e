import { useState, type FormEvent, type ReactNode } from 'react'
import type { PublicSettings, SettingsPatch } from '../../../../shared/contract'
import { useConsole } from '../../state/store'

/** What a form can change: every visible setting, and secrets that are typed but never shown. */
type Editable = Omit<PublicSettings, 'secretsSet'> & { mqttPassword: string }

export function SettingsSection() {
  return (
    <div className="settings">
      <h2>Settings</h2>
      <SettingsForm id="settings-general" title="General">
        {(draft, field) => (
          <>
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
          </>
        )}
      </SettingsForm>
      <SettingsForm id="settings-broker" title="Broker and Sparkplug host">
        {(draft, field, settings) => (
          <>
            <fieldset>
              <legend>Broker</legend>
              <label className="inline">
                <input type="radio" name="mqttMode" checked={draft.mqttMode === 'embedded'} onChange={() => field('mqttMode', 'embedded')} /> Embedded broker in this console
              </label>
              <label className="inline">
                <input type="radio" name="mqttMode" checked={draft.mqttMode === 'external'} onChange={() => field('mqttMode', 'external')} /> The site&apos;s broker or cluster
              </label>
            </fieldset>
            {draft.mqttMode === 'embedded' ? (
              <>
                <label>
                  MQTT port <span className="hint">devices connect here; 1883 is the usual one</span>
                  <input type="number" min={1} max={65535} value={draft.mqttPort} onChange={(e) => field('mqttPort', Number(e.target.value))} />
                </label>
                <label className="inline">
                  <input type="checkbox" checked={draft.mqttLan} onChange={(e) => field('mqttLan', e.target.checked)} /> Accept devices from the plant network (listen on all interfaces)
                </label>
                <label>
                  TLS port <span className="hint">for devices with client certificates; 0 is off, 8883 is usual</span>
                  <input type="number" min={0} max={65535} value={draft.mqttTlsPort} onChange={(e) => field('mqttTlsPort', Number(e.target.value))} />
                </label>
                {draft.mqttTlsPort > 0 && (
                  <>
                    <PathField label="Server certificate (PEM)" value={draft.mqttTlsCertFile} onChange={(v) => field('mqttTlsCertFile', v)} />
                    <PathField label="Server key (PEM)" value={draft.mqttTlsKeyFile} onChange={(v) => field('mqttTlsKeyFile', v)} />
                    <PathField label="CA of the device certificates (PEM)" value={draft.mqttTlsCaFile} onChange={(v) => field('mqttTlsCaFile', v)} />
                  </>
                )}
              </>
            ) : (
              <>
                <label>
                  Broker URL <span className="hint">mqtt://host:1883, mqtts://host:8883 or wss://host/mqtt</span>
                  <input value={draft.mqttUrl} onChange={(e) => field('mqttUrl', e.target.value)} placeholder="mqtt://broker.plant.local:1883" />
                </label>
                <label>
                  User name
                  <input value={draft.mqttUsername} autoComplete="off" onChange={(e) => field('mqttUsername', e.target.value)} />
                </label>
                <label>
                  Password <span className="hint">{settings.secretsSet.mqttPassword ? 'set; type to replace it' : 'not set'}</span>
                  <input type="password" value={draft.mqttPassword} autoComplete="new-password" onChange={(e) => field('mqttPassword', e.target.value)} />
                </label>
                <PathField label="Client certificate (PEM)" value={draft.mqttClientCertFile} onChange={(v) => field('mqttClientCertFile', v)} />
                <PathField label="Client key (PEM)" value={draft.mqttClientKeyFile} onChange={(v) => field('mqttClientKeyFile', v)} />
                <PathField label="CA of the broker (PEM)" value={draft.mqttCaFile} onChange={(v) => field('mqttCaFile', v)} />
              </>
            )}
            <label>
              Sparkplug host id <span className="hint">the console&apos;s STATE topic is spBv1.0/STATE/&lt;id&gt;</span>
              <input value={draft.sparkplugHostId} maxLength={64} onChange={(e) => field('sparkplugHostId', e.target.value)} />
            </label>
            <label>
              Flag a device silent after (seconds) <span className="hint">when it sends nothing and no death arrives</span>
              <input type="number" min={5} max={86400} value={draft.silentAfterSeconds} onChange={(e) => field('silentAfterSeconds', Number(e.target.value))} />
            </label>
            <label>
              Group of boards flashed on the bench <span className="hint">written into each board&apos;s identity; the Fleet expects it there</span>
              <input value={draft.benchGroup} maxLength={64} onChange={(e) => field('benchGroup', e.target.value)} />
            </label>
          </>
        )}
      </SettingsForm>
      <SettingsForm id="settings-demo" title="Demo fleet">
        {(draft, field) => (
          <>
            <p className="hint">Virtual ESP32 nodes started inside the console, on its broker: a living fleet to learn the screens with. They are marked in the group &quot;Demo&quot;.</p>
            <label className="inline">
              <input type="checkbox" data-testid="demo-fleet-toggle" checked={draft.demoFleet} onChange={(e) => field('demoFleet', e.target.checked)} /> Run the demo fleet
            </label>
            <label>
              Edge nodes
              <input type="number" min={1} max={1000} value={draft.demoFleetNodes} onChange={(e) => field('demoFleetNodes', Number(e.target.value))} />
            </label>
            <label>
              Devices per edge node
              <input type="number" min={0} max={20} value={draft.demoFleetDevices} onChange={(e) => field('demoFleetDevices', Number(e.target.value))} />
            </label>
          </>
        )}
      </SettingsForm>
      <ServicesPanel />
      <AuditPanel />
    </div>
  )
}

function PathField({ label, value, onChange }: { label: string; value: string; onChange: (value: string) => void }) {
  return (
    <label>
      {label}
      <input value={value} onChange={(e) => onChange(e.target.value)} placeholder="/path/to/file.pem" spellCheck={false} />
    </label>
  )
}

type Field = <K extends keyof Editable>(key: K, value: Editable[K]) => void

/** One panel of settings: only the fields being edited are local, the rest follows the core. */
function SettingsForm({ id, title, children }: { id: string; title: string; children: (draft: Editable, field: Field, settings: PublicSettings) => ReactNode }) {
  const settings = useConsole((state) => state.settings)
  const save = useConsole((state) => state.saveSettings)
  const [error, setError] = useState<string | null>(null)
  const [edits, setEdits] = useState<Partial<Editable>>({})
  const [saved, setSaved] = useState(false)
  if (!settings) return <p>Loading settings…</p>

  const draft: Editable = { ...settings, mqttPassword: '', ...edits }
  const changed = (Object.keys(edits) as (keyof Editable)[]).filter((key) => (key === 'mqttPassword' ? draft.mqttPassword !== '' : draft[key] !== settings[key as keyof PublicSettings]))
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSaved(false)
    const outcome = await save(Object.fromEntries(changed.map((key) => [key, draft[key]])) as SettingsPatch)
    if (outcome === true) {
      setEdits({})
      setError(null)
      setSaved(true)
    } else setError(outcome)
  }
  const field: Field = (key, value) => {
    setSaved(false)
    setEdits({ ...edits, [key]: value })
  }

  return (
    <form className="panel" onSubmit={submit} aria-labelledby={id} noValidate>
      <h3 id={id}>{title}</h3>
      {children(draft, field, settings)}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {saved && <p role="status">Saved.</p>}
      <button type="submit" disabled={changed.length === 0}>
        Save {title.toLowerCase()}
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
