import { coveragePalette, colourHex } from '../../../../shared/domain/site/coverage-palette'
import { kindColour, kindLabel } from '../../../../shared/domain/site/drawing'
import { defaultLinkMarginDb } from '../../../../shared/domain/site/network'
import { useConsole } from '../../state/store'
import { thinLinkHeadroomDb } from './map-plan-features'
import { radioScaleDbm } from './map-raster'
import type { SiteLayerName } from './plan-state'

const layerLabels: Record<SiteLayerName, string> = {
  overlay: 'Site image',
  zones: 'Zones',
  blindSpots: 'Blind spots',
  obstructions: 'Walls and obstructions',
  mountingPoints: 'Mounting points',
  devices: 'Devices',
  links: 'Radio links',
  coverage: 'Coverage',
  radio: 'Radio signal',
}

/** In the order they lie on the map, top first. */
const layerOrder: readonly SiteLayerName[] = ['devices', 'mountingPoints', 'links', 'obstructions', 'blindSpots', 'zones', 'radio', 'coverage', 'overlay']

/**
 * The map's legend: a switch per layer, and under each switched-on layer that needs one the key to its
 * colours. Checkboxes, so Tab reaches each and Space flips it; the whole legend folds away.
 */
export function SiteMapLayers() {
  const layers = useConsole((state) => state.siteLayers)
  const toggle = useConsole((state) => state.toggleSiteLayer)
  const hasCoverage = useConsole((state) => state.coverage !== null)
  const hasRadio = useConsole((state) => state.coverage?.radio != null)
  const hasOverlay = useConsole((state) => state.site?.overlays.some((overlay) => overlay.image && overlay.corners) ?? false)

  return (
    <details className="site-map-layers" open data-testid="site-map-layers">
      <summary>Layers</summary>
      <ul>
        {layerOrder.map((name) => {
          // A switch for what is not there would switch nothing; say so instead of hiding it.
          const absent = (name === 'coverage' || name === 'blindSpots') && !hasCoverage ? 'run coverage first' : name === 'radio' && !hasRadio ? (hasCoverage ? 'no gateways placed' : 'run coverage first') : name === 'overlay' && !hasOverlay ? 'none imported' : null
          return (
            <li key={name}>
              <label className="site-map-layer">
                <input type="checkbox" checked={layers[name]} onChange={() => toggle(name)} data-testid={`site-layer-${name}`} />
                <span className={`site-map-swatch site-map-swatch-${name}`} aria-hidden="true" />
                <span>{layerLabels[name]}</span>
                {absent && <span className="muted site-map-layer-absent">({absent})</span>}
              </label>
              {layers[name] && !absent && <LayerKey name={name} />}
            </li>
          )
        })}
      </ul>
    </details>
  )
}

function LayerKey({ name }: { name: SiteLayerName }) {
  switch (name) {
    case 'coverage':
      return (
        <ul className="site-map-key">
          {coveragePalette
            .filter((colour) => colour.alpha > 0)
            .map((colour) => (
              <li key={colour.cell}>
                <span className="site-map-key-colour" style={{ backgroundColor: colourHex(colour) }} aria-hidden="true" />
                {colour.label}
              </li>
            ))}
        </ul>
      )
    case 'radio':
      return (
        <p className="site-map-key site-map-key-radio">
          <span className="site-map-radio-ramp" aria-hidden="true" />
          <span>
            {radioScaleDbm.weak} dBm … {radioScaleDbm.usable} … {radioScaleDbm.strong} dBm and stronger
          </span>
        </p>
      )
    case 'links':
      return (
        <ul className="site-map-key">
          <li>
            <span className="site-map-key-line site-map-link-good" aria-hidden="true" />
            {defaultLinkMarginDb + thinLinkHeadroomDb} dB margin or more
          </li>
          <li>
            <span className="site-map-key-line site-map-link-thin" aria-hidden="true" />
            thin: one more wall may cut it
          </li>
          <li>
            <span className="site-map-key-line site-map-link-weak" aria-hidden="true" />
            under {defaultLinkMarginDb} dB margin
          </li>
        </ul>
      )
    case 'devices':
      return (
        <ul className="site-map-key">
          {(['camera', 'sensor', 'gateway', 'node', 'switch'] as const).map((kind) => (
            <li key={kind}>
              <span className="site-map-key-colour" style={{ backgroundColor: kindColour[kind] }} aria-hidden="true" />
              {kindLabel[kind]}
            </li>
          ))}
        </ul>
      )
    default:
      return null
  }
}
