/** Theme colours the map paints with, read from the page's CSS variables. */
export interface SitePalette {
  background: string
  /** Imported areas and the plan's boundary and required zones. */
  area: string
  /** Imported lines; seen cells, strong radio, good links, gateways and nodes. */
  line: string
  /** Imported points and the plan's mounting points. */
  point: string
  pointStroke: string
  /** Image footprints, optional zones, light walls. */
  footprint: string
  focus: string
  /** Labels and heavy walls. */
  text: string
  /** Blind spots, excluded zones, weak links. */
  bad: string
}

export function readPalette(element: Element = document.documentElement): SitePalette {
  const style = getComputedStyle(element)
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback
  return {
    background: read('--panel-2', '#1d2630'),
    area: read('--accent', '#4aa3ff'),
    line: read('--ok', '#3ecf8e'),
    point: read('--warn', '#ffb547'),
    pointStroke: read('--bg', '#0f1419'),
    footprint: read('--muted', '#9aa5b1'),
    focus: read('--focus', '#ffd166'),
    text: read('--text', '#e6e9ee'),
    bad: read('--bad', '#ff6b6b'),
  }
}
