import { useId, useMemo, useState, type FormEvent } from 'react'
import type { MetricView } from '../../../../shared/contract'
import { formatAgo, formatMetricValue, formatTime, isChartable, parseWriteValue } from './fleet-format'
import { compareNatural } from './fleet-model'

export type WriteMetric = (metric: MetricView, value: number | boolean | string) => Promise<boolean>

/** Every metric of the last birth and data, by name; stale values say so in words, not only in grey. */
export function MetricsTable(props: { metrics: MetricView[]; now: number; charted: string | null; onChart(name: string): void; onWrite: WriteMetric }) {
  const [editing, setEditing] = useState<string | null>(null)
  const metrics = useMemo(() => [...props.metrics].sort((a, b) => compareNatural(a.name, b.name)), [props.metrics])
  if (metrics.length === 0) return <p className="hint">No metrics yet: they arrive with the birth certificate.</p>

  return (
    <table className="metrics">
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">Value</th>
          <th scope="col">Unit</th>
          <th scope="col">Type</th>
          <th scope="col">Measured</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {metrics.map((metric) => (
          <tr key={metric.name} className={metric.stale ? 'stale' : undefined} data-testid="metric-row" data-name={metric.name} data-stale={String(metric.stale)}>
            <th scope="row">{metric.name}</th>
            <td className="metric-value">
              {editing === metric.name ? (
                <MetricEditor metric={metric} onWrite={props.onWrite} onDone={() => setEditing(null)} />
              ) : (
                <>
                  {formatMetricValue(metric.value)}
                  {metric.stale && (
                    <span className="stale-mark" title="This value predates the last death or reconnect; it may no longer be true.">
                      STALE
                    </span>
                  )}
                </>
              )}
            </td>
            <td>{metric.unit ?? ''}</td>
            <td className="muted">{metric.type}</td>
            <td title={formatTime(metric.at)}>{formatAgo(metric.at, props.now)}</td>
            <td className="metric-actions">
              {isChartable(metric) && (
                <button type="button" aria-pressed={props.charted === metric.name} onClick={() => props.onChart(metric.name)} aria-label={`Chart ${metric.name}`}>
                  Chart
                </button>
              )}
              {metric.writable && editing !== metric.name && (
                <button type="button" onClick={() => setEditing(metric.name)} aria-label={`Write ${metric.name}`} data-testid="metric-write">
                  Write…
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The new value, checked against the metric's Sparkplug type before anyone is asked to confirm it. */
function MetricEditor(props: { metric: MetricView; onWrite: WriteMetric; onDone(): void }) {
  const { metric } = props
  // A Boolean is written to change it, so the editor offers the other value first.
  const [text, setText] = useState(metric.type === 'Boolean' ? String(metric.value !== true) : metric.value === null ? '' : String(metric.value))
  const [error, setError] = useState<string | null>(null)
  const errorId = useId()
  const label = `New value for ${metric.name}`

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const parsed = parseWriteValue(metric.type, text)
    if (!parsed.ok) {
      setError(parsed.error)
      return
    }
    setError(null)
    if (await props.onWrite(metric, parsed.value)) props.onDone()
  }
  const cancelOnEscape = (event: { key: string; preventDefault(): void }) => {
    // Escape leaves the editor first; only a second Escape leaves the device.
    if (event.key === 'Escape') {
      event.preventDefault()
      props.onDone()
    }
  }

  return (
    <form className="metric-editor" onSubmit={(event) => void submit(event)} noValidate>
      {metric.type === 'Boolean' ? (
        <select aria-label={label} value={text} onChange={(event) => setText(event.target.value)} onKeyDown={cancelOnEscape} autoFocus>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : (
        <input
          aria-label={label}
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={cancelOnEscape}
          inputMode={/Int|Float|Double/.test(metric.type) ? 'decimal' : 'text'}
          aria-invalid={error !== null}
          aria-describedby={error ? errorId : undefined}
          autoFocus
        />
      )}
      <button type="submit" data-testid="metric-send">
        Send…
      </button>
      <button type="button" onClick={props.onDone}>
        Cancel
      </button>
      {error && (
        <span id={errorId} className="error" role="alert">
          {error}
        </span>
      )}
    </form>
  )
}
