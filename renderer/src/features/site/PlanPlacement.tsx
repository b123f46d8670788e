import { useState } from 'react'
import type { SitePlacementView } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { curvePolyline, exactStatusLabels, formatEuros, formatShare } from './plan-model'
import { plural } from './site-model'

type Kind = 'camera' | 'sensor'

/**
 * How many devices close the gaps: the greedy cover over the free mounting points (ready to add as
 * devices), the exact optimum when the site is small enough, and the lower bound that says how close
 * the greedy count is to the best possible.
 */
export function PlanPlacement({ cellSizeM }: { cellSizeM: number }) {
  const placement = useConsole((state) => state.placement)
  const running = useConsole((state) => state.placementRunning)
  const error = useConsole((state) => state.placementError)
  const revision = useConsole((state) => state.plan?.revision ?? null)
  const saving = useConsole((state) => state.planSaving)
  const runPlacement = useConsole((state) => state.runPlacement)
  const applyPlacement = useConsole((state) => state.applyPlacement)
  const [targetPercent, setTargetPercent] = useState(100)
  const [kinds, setKinds] = useState<readonly Kind[]>(['camera', 'sensor'])
  const [minimiseCost, setMinimiseCost] = useState(false)
  const valid = Number.isFinite(targetPercent) && targetPercent > 0 && targetPercent <= 100 && kinds.length > 0 && Number.isFinite(cellSizeM) && cellSizeM >= 0.5
  const stale = placement !== null && revision !== null && placement.revision !== revision
  const toggleKind = (kind: Kind, on: boolean) => setKinds((current) => (on ? [...new Set([...current, kind])] : current.filter((k) => k !== kind)))

  return (
    <section className="site-plan-section" aria-labelledby="site-plan-placement-title">
      <h3 id="site-plan-placement-title">Placement</h3>
      <form
        className="site-plan-form site-plan-placement-form"
        onSubmit={(event) => {
          event.preventDefault()
          if (valid) void runPlacement({ cellSizeM, targetShare: targetPercent / 100, kinds: [...kinds], minimiseCost })
        }}
      >
        <label className="site-plan-field">
          <span>Close this share of the gaps (%)</span>
          <input type="number" min={1} max={100} step={1} value={Number.isFinite(targetPercent) ? targetPercent : ''} onChange={(event) => setTargetPercent(event.target.valueAsNumber)} data-testid="site-plan-target" />
        </label>
        <fieldset className="site-plan-kinds">
          <legend>Place</legend>
          {(['camera', 'sensor'] as const).map((kind) => (
            <label key={kind}>
              <input type="checkbox" checked={kinds.includes(kind)} onChange={(event) => toggleKind(kind, event.target.checked)} /> {kind === 'camera' ? 'cameras' : 'sensors'}
            </label>
          ))}
        </fieldset>
        <label>
          <input type="checkbox" checked={minimiseCost} onChange={(event) => setMinimiseCost(event.target.checked)} /> Minimise cost rather than the number of devices
        </label>
        <button type="submit" className="primary" disabled={running || !valid} aria-busy={running} data-testid="site-plan-run-placement">
          {running ? 'Working out…' : 'Close the gaps'}
        </button>
      </form>
      <p className="hint">On the coverage grid of {Number.isFinite(cellSizeM) ? cellSizeM : '?'} m; only free mounting points that take the kind are used.</p>
      {kinds.length === 0 && <p className="hint">Choose cameras, sensors or both.</p>}
      {error && (
        <p className="error" role="alert" data-testid="site-plan-placement-error">
          No placement: {error}
        </p>
      )}
      {placement && (
        <div data-testid="site-plan-placement" data-revision={placement.revision}>
          {stale && (
            <p className="attention" data-testid="site-plan-placement-stale">
              Worked out for revision {placement.revision}; the plan has changed since. Press Close the gaps again.
            </p>
          )}
          <PlacementFigures placement={placement} />
          <CurveChart placement={placement} />
          {placement.proposal.length > 0 && (
            <>
              <table className="site-plan-table" aria-label="Proposed devices">
                <thead>
                  <tr>
                    <th scope="col">Part</th>
                    <th scope="col">Mounting point</th>
                    <th scope="col" className="numeric">
                      Facing
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {placement.proposal.map((item, n) => (
                    <tr key={n} data-testid="site-plan-proposal">
                      <td>{item.partNumber}</td>
                      <td>{item.mountingPointId}</td>
                      <td className="numeric">{Math.round(item.orientationDeg)}°</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button type="button" className="primary" onClick={applyPlacement} disabled={stale || saving} data-testid="site-plan-apply-placement">
                Add {plural(placement.proposal.length, 'device')} to the plan
              </button>
            </>
          )}
          {placement.skipped.length > 0 && (
            <ul className="site-plan-list" aria-label="Left out of the placement">
              {placement.skipped.map((reason, n) => (
                <li key={n} className="hint">
                  {reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  )
}

function PlacementFigures({ placement }: { placement: SitePlacementView }) {
  const last = placement.curve[placement.curve.length - 1]
  return (
    <dl className="site-plan-figures">
      <div>
        <dt>Greedy cover</dt>
        <dd>
          <span data-testid="site-plan-greedy-nodes">{plural(placement.proposal.length, 'device')}</span>
          {last && ` reach ${formatShare(last.coveredShare)} of the required area${last.costEur > 0 ? ` for ${formatEuros(last.costEur)}` : ''}`}
          {!placement.reachedTarget && <span className="attention"> (short of the target: some gaps no free mounting point sees)</span>}
        </dd>
      </div>
      <div>
        <dt>Exact optimum</dt>
        <dd data-testid="site-plan-exact" data-status={placement.exact?.status ?? 'none'}>
          {placement.exact === null
            ? 'not solved: the site is too large, or it was not asked for'
            : placement.exact.status === 'optimal' || placement.exact.status === 'time-limit'
              ? `${plural(placement.exact.nodes, 'device')}, ${exactStatusLabels[placement.exact.status]} (${Math.round(placement.exact.solveMs)} ms)`
              : exactStatusLabels[placement.exact.status]}
        </dd>
      </div>
      <div>
        <dt>Lower bound</dt>
        <dd data-testid="site-plan-lower-bound">{lowerBoundText(placement)}</dd>
      </div>
      <div>
        <dt>Computed</dt>
        <dd>in {Math.round(placement.computeMs)} ms</dd>
      </div>
    </dl>
  )
}

function lowerBoundText(placement: SitePlacementView): string {
  const bound = placement.lowerBound
  if (bound === null) return 'not proved'
  if (placement.objective === 'price') return `no cover costs less than ${formatEuros(Math.ceil(bound * 100 - 1e-6) / 100)}`
  // The bound is fractional from the relaxation; a device count is whole.
  const devices = Math.ceil(bound - 1e-9)
  return devices >= placement.proposal.length ? `none with fewer devices: ${plural(placement.proposal.length, 'device')} is the optimum` : `no cover with fewer than ${plural(devices, 'device')}`
}

const chart = { width: 260, height: 110, left: 34, bottom: 20, top: 6, right: 8 }

/** Coverage against devices along the greedy order: where the curve flattens, more devices buy little. */
function CurveChart({ placement }: { placement: SitePlacementView }) {
  const { curve } = placement
  if (curve.length < 2) return null
  const maxNodes = Math.max(...curve.map((point) => point.nodes))
  const first = curve[0]!
  const last = curve[curve.length - 1]!
  const description = `Required area seen rises from ${formatShare(first.coveredShare)} with ${plural(first.nodes, 'device')} to ${formatShare(last.coveredShare)} with ${plural(last.nodes, 'device')}.`
  return (
    <figure className="site-plan-curve">
      <svg viewBox={`0 0 ${chart.left + chart.width + chart.right} ${chart.top + chart.height + chart.bottom}`} role="img" aria-label={description} data-testid="site-plan-curve">
        <g transform={`translate(${chart.left} ${chart.top})`}>
          <line className="site-plan-curve-axis" x1={0} y1={chart.height} x2={chart.width} y2={chart.height} />
          <line className="site-plan-curve-axis" x1={0} y1={0} x2={0} y2={chart.height} />
          <line className="site-plan-curve-grid" x1={0} y1={0} x2={chart.width} y2={0} />
          <text className="site-plan-curve-label" x={-4} y={4} textAnchor="end">
            100 %
          </text>
          <text className="site-plan-curve-label" x={-4} y={chart.height} textAnchor="end">
            0 %
          </text>
          <text className="site-plan-curve-label" x={0} y={chart.height + 14} textAnchor="middle">
            0
          </text>
          <text className="site-plan-curve-label" x={chart.width} y={chart.height + 14} textAnchor="middle">
            {maxNodes}
          </text>
          <polyline className="site-plan-curve-line" points={curvePolyline(curve, chart.width, chart.height)} />
        </g>
      </svg>
      <figcaption className="hint">Required area seen against devices added, in the greedy order.</figcaption>
    </figure>
  )
}
