import type { DeviceDetail } from '../../../../shared/contract'
import { formatAgo, formatTime } from './fleet-format'

/** What the last birth certificate said: when, which bdSeq, how many metrics it declared. */
export function BirthCertificate(props: { birth: DeviceDetail['birth']; now: number }) {
  if (!props.birth) {
    return <p className="hint">No birth certificate received since the console started. Rebirth asks the edge node to send one.</p>
  }
  return (
    <dl className="facts">
      <div>
        <dt>Born</dt>
        <dd title={formatTime(props.birth.at)}>{formatAgo(props.birth.at, props.now)}</dd>
      </div>
      <div>
        <dt>bdSeq</dt>
        <dd>{props.birth.bdSeq ?? '—'}</dd>
      </div>
      <div>
        <dt>Metrics declared</dt>
        <dd>{props.birth.metricCount}</dd>
      </div>
    </dl>
  )
}

export function ProtocolErrors(props: { errors: DeviceDetail['protocolErrors']; now: number }) {
  if (props.errors.length === 0) return <p className="hint">No protocol errors recorded.</p>
  const errors = [...props.errors].sort((a, b) => b.at - a.at)
  return (
    <ol className="protocol-errors">
      {errors.map((error, index) => (
        <li key={`${error.at}-${index}`} data-testid="protocol-error">
          <time dateTime={new Date(error.at).toISOString()} title={formatTime(error.at)}>
            {formatAgo(error.at, props.now)}
          </time>
          <span>{error.reason}</span>
        </li>
      ))}
    </ol>
  )
}
