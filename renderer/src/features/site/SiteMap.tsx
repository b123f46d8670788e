import { useEffect, useRef, useState } from 'react'
import { useConsole } from '../../state/store'
import { readPalette, SiteMapView } from './site-map-view'

/**
 * The map of the site on screen. The MapLibre map is made once per mount and told about changes from
 * effects; React renders only the container and a line of trouble, never the map's insides.
 * `data-features` on the container is the number of features drawn, set once the map has drawn them.
 */
export function SiteMap() {
  const site = useConsole((state) => state.site)
  const focus = useConsole((state) => state.siteFocus)
  const focusSiteFeature = useConsole((state) => state.focusSiteFeature)
  const container = useRef<HTMLDivElement>(null)
  const view = useRef<SiteMapView | null>(null)
  const [trouble, setTrouble] = useState<string | null>(null)

  useEffect(() => {
    const element = container.current
    if (!element) return
    let created: SiteMapView
    try {
      created = new SiteMapView(element, {
        rendered: (version, features) => {
          element.dataset.version = String(version)
          element.dataset.features = String(features)
        },
        picked: (feature) => focusSiteFeature(feature),
        failed: (message) => setTrouble(message),
      })
    } catch (error) {
      // No WebGL (switched off, or a remote desktop without it): the report beside still says everything.
      queueMicrotask(() => setTrouble(`The map cannot be drawn in this window: ${error instanceof Error ? error.message : String(error)}`))
      return
    }
    view.current = created
    // The theme is a data attribute on <html>; follow it whoever changes it.
    const observer = new MutationObserver(() => void created.setPalette(readPalette()))
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] })
    return () => {
      observer.disconnect()
      view.current = null
      created.destroy()
      delete element.dataset.features
      delete element.dataset.version
    }
  }, [focusSiteFeature])

  useEffect(() => {
    const element = container.current
    if (!site || !element || !view.current) return
    // Until the new version is drawn, the count of the old one would be a lie.
    if (element.dataset.version !== String(site.version)) delete element.dataset.features
    void view.current.show(site)
  }, [site])

  useEffect(() => {
    if (focus) void view.current?.focus(focus.feature)
  }, [focus])

  return (
    <div className="site-map-frame">
      <div ref={container} className="site-map" data-testid="site-map" role="region" aria-label="Site map" />
      {trouble && (
        <p className="site-map-trouble error" role="alert">
          {trouble}
        </p>
      )}
    </div>
  )
}
