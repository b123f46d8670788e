import { useEffect, useMemo } from 'react'
import type { MetricView, SeriesPoints } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { formatMetricValue, isChartable } from './fleet-format'
import { seriesRanges, type SeriesRange } from './fleet-slice'
import { SeriesChart } from './SeriesChart'
import { useInterval } from './use-now'

/** A chosen numeric metric over the last 15 min … 7 d, refreshed while it is on screen. */
export function MetricChart(props: { metrics: MetricView[] }) {
  const series = useConsole((state) => state.fleetSeries)
  const show = useConsole((state) => state.showFleetSeries)
  const refresh = useConsole((state) => state.refreshFleetSeries)
  const chartable = useMemo(() => props.metrics.filter(isChartable), [props.metrics])
  const first = chartable.length > 0 ? defaultMetric(chartable) : null

  // The first chartable metric is shown at once, so the chart is never an empty frame.
  useEffect(() => {
    if (!series && first) void show(first, '1h')
  }, [series, first, show])

  // Short ranges move visibly; long ones change by a bucket a minute at most.
  const recent = series?.range === '15m' || series?.range === '1h'
  useInterval(() => void refresh(), recent ? 5000 : 60_000)

  if (chartable.length === 0) return <p className="hint">This device has no numeric metric to chart.</p>
  if (!series) return null
  const metric = chartable.find((m) => m.name === series.metric)
  const from = series.to - seriesRanges[series.range].ms

  return (
    <div className="metric-chart">
      <div className="chart-controls">
        <label>
          Metric
          <select value={series.metric} onChange={(event) => void show(event.target.value, series.range)}>
            {chartable.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <div className="range-buttons" role="group" aria-label="Time range">
          {(Object.keys(seriesRanges) as SeriesRange[]).map((range) => (
            <button key={range} type="button" aria-pressed={series.range === range} onClick={() => void show(series.metric, range)} data-testid={`series-range-${range}`}>
              Last {seriesRanges[range].label}
            </button>
          ))}
        </div>
      </div>
      <SeriesChart points={series.points} from={from} to={series.to} label={series.metric} unit={metric?.unit ?? null} />
      <p className="chart-summary" aria-live="polite">
        {series.error ? <span className="error">{series.error}</span> : series.points ? summarise(series.points, metric?.unit ?? null) : 'Loading…'}
      </p>
    </div>
  )
}

function defaultMetric(chartable: MetricView[]): string {
  // Sparkplug bookkeeping (bdSeq, Properties) and flags say little on a chart; a measurement says more.
  const measurements = chartable.filter((m) => !/^(bdSeq$|Properties\/)/.test(m.name))
  const measured = measurements.find((m) => m.type !== 'Boolean') ?? measurements[0]
  return (measured ?? chartable[0]!).name
}

function summarise(points: SeriesPoints, unit: string | null): string {
  const count = points.times.length
  if (count === 0) return 'No samples in this range.'
  const numbers = (points.min ?? points.values).filter((v): v is number => v !== null)
  const highs = (points.max ?? points.values).filter((v): v is number => v !== null)
  const suffix = unit ? ` ${unit}` : ''
  const kind = points.resolution === 0 ? `${count} samples` : `${count} points, each ${bucket(points.resolution)} (average, with min–max band)`
  if (numbers.length === 0) return `${kind}; no numeric values.`
  const last = [...points.values].reverse().find((v) => v !== null) ?? null
  return `${kind}. Min ${formatMetricValue(Math.min(...numbers))}${suffix}, max ${formatMetricValue(Math.max(...highs))}${suffix}, last ${formatMetricValue(last)}${suffix}.`
}

function bucket(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`
}
