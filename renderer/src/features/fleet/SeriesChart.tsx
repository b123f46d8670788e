import { useEffect, useRef, useSyncExternalStore } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { SeriesPoints } from '../../../../shared/contract'

const chartHeight = 240

/**
 * One metric over time with uPlot (canvas; its element styles are set from script, which the CSP
 * allows). Roll-ups draw their min–max band behind the average so a spike is never hidden.
 */
export function SeriesChart(props: { points: SeriesPoints | null; from: number; to: number; label: string; unit: string | null }) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const latest = useRef(props)
  const theme = useThemeName()
  const banded = props.points?.min !== undefined && props.points.max !== undefined

  useEffect(() => {
    latest.current = props
  })

  // Built again only when the theme, the metric or the kind of series changes; new points go through setData.
  useEffect(() => {
    const element = box.current
    if (!element) return
    const colours = themeColours()
    const axis: uPlot.Axis = { stroke: colours.muted, grid: { stroke: colours.line, width: 1 }, ticks: { stroke: colours.line, width: 1 } }
    const series: uPlot.Series[] = [{}, { label: latest.current.label, stroke: colours.accent, width: 2, spanGaps: false }]
    if (banded) {
      series.push({ label: 'min', stroke: withAlpha(colours.accent, 0.35), width: 1 }, { label: 'max', stroke: withAlpha(colours.accent, 0.35), width: 1 })
    }
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: chartHeight,
      scales: {
        // The whole range asked for, even when samples cover only part of it: a gap is information.
        x: { time: true, range: () => [latest.current.from / 1000, latest.current.to / 1000] },
      },
      axes: [axis, { ...axis, label: latest.current.unit ?? undefined, size: 60 }],
      series,
      bands: banded ? [{ series: [3, 2], fill: withAlpha(colours.accent, 0.25) }] : [],
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
    }
    const chart = new uPlot(options, chartData(latest.current.points, banded), element)
    plot.current = chart
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: chartHeight }))
    resize.observe(element)
    return () => {
      resize.disconnect()
      chart.destroy()
      plot.current = null
    }
  }, [theme, banded, props.label, props.unit])

  useEffect(() => {
    plot.current?.setData(chartData(props.points, banded))
  }, [props.points, props.from, props.to, banded])

  return (
    <div
      ref={box}
      className="series-chart"
      role="img"
      aria-label={`${props.label} from ${new Date(props.from).toLocaleString()} to ${new Date(props.to).toLocaleString()}`}
      data-testid="series-chart"
      data-points={props.points?.times.length ?? 0}
      data-resolution={props.points?.resolution ?? ''}
    />
  )
}

function chartData(points: SeriesPoints | null, banded: boolean): uPlot.AlignedData {
  const times = (points?.times ?? []).map((at) => at / 1000)
  const values = points?.values ?? []
  if (!banded) return [times, values]
  return [times, values, points?.min ?? [], points?.max ?? []]
}

/** The shell's data-theme on <html>, live: canvas colours are read from the CSS variables it selects. */
function useThemeName(): string {
  return useSyncExternalStore(
    (changed) => {
      const observer = new MutationObserver(changed)
      observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] })
      return () => observer.disconnect()
    },
    () => document.documentElement.dataset.theme ?? 'dark',
  )
}

function themeColours() {
  const style = getComputedStyle(document.documentElement)
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback
  return { accent: read('--accent', '#4aa3ff'), muted: read('--muted', '#9aa5b1'), line: read('--line', '#2b3440') }
}

function withAlpha(colour: string, alpha: number): string {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour)
  if (!hex) return colour
  const [r, g, b] = hex.slice(1).map((part) => parseInt(part, 16))
  return `rgba(${r}, ${g}, ${b}, ${alpha})`
}
