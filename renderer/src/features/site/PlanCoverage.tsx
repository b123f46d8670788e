import { maximumCellSizeM, minimumCellSizeM } from '../../../../shared/domain/site/grid'
import { useConsole } from '../../state/store'
import { formatArea, formatShare } from './plan-model'
import { plural } from './site-model'

const doriBands = [
  { index: 1, name: 'Detection', hint: 'a person is there' },
  { index: 2, name: 'Observation', hint: 'what they are doing' },
  { index: 3, name: 'Recognition', hint: 'someone known' },
  { index: 4, name: 'Identification', hint: 'a stranger, beyond doubt' },
] as const

/**
 * What the placed cameras and sensors see: the share of the required area, the DORI bands (EN 62676-4), the
 * gateways' reach, and every blind spot with its area; choosing a spot shows it on the map.
 */
export function PlanCoverage({ cellSizeM, onCellSize }: { cellSizeM: number; onCellSize(value: number): void }) {
  const coverage = useConsole((state) => state.coverage)
  const running = useConsole((state) => state.coverageRunning)
  const error = useConsole((state) => state.coverageError)
  const revision = useConsole((state) => state.plan?.revision ?? null)
  const focus = useConsole((state) => state.siteBlindSpotFocus)
  const runCoverage = useConsole((state) => state.runCoverage)
  const focusBlindSpot = useConsole((state) => state.focusBlindSpot)
  const valid = Number.isFinite(cellSizeM) && cellSizeM >= minimumCellSizeM && cellSizeM <= maximumCellSizeM
  const summary = coverage?.summary
  const cellArea = coverage ? coverage.grid.cellSizeM ** 2 : 0

  return (
    <section className="site-plan-section" aria-labelledby="site-plan-coverage-title">
      <h3 id="site-plan-coverage-title">Coverage</h3>
      <form
        className="site-plan-form"
        onSubmit={(event) => {
          event.preventDefault()
          if (valid) void runCoverage(cellSizeM)
        }}
      >
        <label className="site-plan-field">
          <span>Cell size (m)</span>
          <input type="number" min={minimumCellSizeM} max={maximumCellSizeM} step={0.5} value={Number.isFinite(cellSizeM) ? cellSizeM : ''} onChange={(event) => onCellSize(event.target.valueAsNumber)} aria-describedby="site-plan-cell-hint" data-testid="site-plan-cell-size" />
        </label>
        <button type="submit" disabled={running || !valid} aria-busy={running} data-testid="site-plan-run-coverage">
          {running ? 'Computing…' : 'Run coverage'}
        </button>
      </form>
      <p className="hint" id="site-plan-cell-hint">
        {valid ? 'Smaller cells show thin gaps and take longer. Placement uses the same grid.' : `Choose a cell size from ${minimumCellSizeM} m to ${maximumCellSizeM} m.`}
      </p>
      {error && (
        <p className="error" role="alert" data-testid="site-plan-coverage-error">
          Coverage could not be computed: {error}
        </p>
      )}
      {coverage && summary && (
        <div data-testid="site-plan-coverage" data-revision={coverage.revision}>
          {revision !== null && coverage.revision !== revision && (
            <p className="attention" data-testid="site-plan-coverage-stale">
              Computed for revision {coverage.revision}; the plan has changed since. Run coverage again.
            </p>
          )}
          <dl className="site-plan-figures">
            <div>
              <dt>Required area seen</dt>
              <dd data-testid="site-plan-required-share" data-share={summary.requiredShare}>
                {formatShare(summary.requiredShare)}
              </dd>
            </div>
            <div>
              <dt>Optional area seen</dt>
              <dd>{summary.optionalCells > 0 ? formatShare(summary.optionalSeen / summary.optionalCells) : '—'}</dd>
            </div>
            <div>
              <dt>Radio reach</dt>
              <dd>{summary.radioShare === null ? 'no gateway placed' : `${formatShare(summary.radioShare)} of the site`}</dd>
            </div>
            <div>
              <dt>Blind area</dt>
              <dd>{formatArea(summary.blindSpotAreaM2)}</dd>
            </div>
            <div>
              <dt>Computed</dt>
              <dd>
                in {Math.round(coverage.computeMs)} ms on {coverage.grid.cols} × {coverage.grid.rows} cells of {coverage.grid.cellSizeM} m
              </dd>
            </div>
          </dl>
          <h4>DORI bands</h4>
          <table className="site-plan-table">
            <thead>
              <tr>
                <th scope="col">Band</th>
                <th scope="col" className="numeric">
                  Area
                </th>
              </tr>
            </thead>
            <tbody>
              {doriBands.map((band) => (
                <tr key={band.index}>
                  <th scope="row">
                    {band.name} <span className="hint">{band.hint}</span>
                  </th>
                  <td className="numeric">{formatArea((summary.doriCells[band.index] ?? 0) * cellArea)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>{coverage.blindSpots.length === 0 ? 'No blind spots' : plural(coverage.blindSpots.length, 'blind spot')}</h4>
          {coverage.blindSpots.length > 0 && (
            <ul className="site-plan-list" aria-label="Blind spots, largest first">
              {coverage.blindSpots.map((spot) => (
                <li key={spot.id} data-testid="site-plan-blind-spot">
                  <button type="button" className="site-plan-row-button" onClick={() => focusBlindSpot(spot.id)} aria-current={focus?.id === spot.id ? 'true' : undefined}>
                    Blind spot {spot.id} <span className="numeric">{formatArea(spot.areaM2)}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
          {coverage.problems.length > 0 && (
            <ul className="site-plan-problems-list">
              {coverage.problems.map((problem, n) => (
                <li key={n}>
                  {problem}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  )
}
