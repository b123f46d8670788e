import { describe, expect, it } from 'vitest'
import type { SiteOverlayView, SiteVersion } from '../../../shared/contract'
import { featureBounds, mapCollection, maxSiteFileBytes, overlayStatus, placedOverlays, siteBounds, type Feature, type FeatureCollection } from '../../../renderer/src/features/site/site-model'

const feature = (geometry: Feature['geometry']): Feature => ({ type: 'Feature', geometry, properties: { name: 'x', description: '<b>long</b>' } })
const collection = (...features: Feature[]): FeatureCollection => ({ type: 'FeatureCollection', features })

const overlay = (patch: Partial<SiteOverlayView> = {}): SiteOverlayView => ({
  index: 0,
  name: 'plan',
  image: { dataUrl: 'data:image/png;base64,AAAA', width: 640, height: 480 },
  href: null,
  corners: [
    [10, 50],
    [11, 50],
    [11, 49],
    [10, 49],
  ],
  ...patch,
})

describe('site bounds', () => {
  it('frames every coordinate of every kind of geometry, altitudes ignored', () => {
    const bounds = siteBounds(
      collection(
        feature({ type: 'Point', coordinates: [21.0006, 48.7726, 1011] }),
        feature({
          type: 'Polygon',
          coordinates: [
            [
              [20.995, 48.7638],
              [21.005, 48.7635],
              [21.004, 48.7705],
              [20.995, 48.7638],
            ],
          ],
        }),
        feature({ type: 'LineString', coordinates: [[21.01, 48.76], [21.02, 48.75]] }),
        feature({
          type: 'GeometryCollection',
          geometries: [
            { type: 'MultiPoint', coordinates: [[20.9, 48.8]] },
            { type: 'MultiPolygon', coordinates: [[[[21.1, 48.7], [21.1, 48.71], [21.09, 48.7], [21.1, 48.7]]]] },
            { type: 'MultiLineString', coordinates: [[[21, 48.9], [21, 48.91]]] },
          ],
        }),
      ),
    )
    expect(bounds).toEqual([
      [20.9, 48.7],
      [21.1, 48.91],
    ])
  })

  it('includes the corners of placed overlays, and overlays alone make a site', () => {
    expect(siteBounds(collection(feature({ type: 'Point', coordinates: [10.5, 49.5] })), [overlay()])).toEqual([
      [10, 49],
      [11, 50],
    ])
    expect(siteBounds(collection(), [overlay({ corners: null }), overlay()])).toEqual([
      [10, 49],
      [11, 50],
    ])
  })

  it('is null when nothing has a usable coordinate, and skips coordinates that are not numbers', () => {
    expect(siteBounds(collection())).toBeNull()
    expect(siteBounds(collection(feature(null)))).toBeNull()
    expect(siteBounds(collection(feature({ type: 'Point', coordinates: [Number.NaN, 3] }), feature({ type: 'Point', coordinates: [1] })))).toBeNull()
    expect(siteBounds(collection(feature({ type: 'LineString', coordinates: [[Number.POSITIVE_INFINITY, 1], [2, 3]] })))).toEqual([
      [2, 3],
      [2, 3],
    ])
  })

  it('one feature: a point gives a box of no size, which the map treats as "go there"', () => {
    expect(featureBounds(feature({ type: 'Point', coordinates: [5, 6] }))).toEqual([
      [5, 6],
      [5, 6],
    ])
    expect(featureBounds(feature(null))).toBeNull()
  })
})

describe('the collection the map draws', () => {
  const site: Pick<SiteVersion, 'collection' | 'report'> = {
    collection: collection(feature({ type: 'Point', coordinates: [1, 2] }), feature({ type: 'Polygon', coordinates: [] }), feature({ type: 'LineString', coordinates: [] })),
    report: {
      format: 'kml',
      imported: [
        { index: 3, name: 'Gate', kind: 'point', folder: null },
        { index: 5, name: 'Plan', kind: 'overlay', folder: 'Overlays' },
      ],
      skipped: [],
      warnings: [],
    },
  }

  it('ids features by their place in the collection (the report row) and keeps only what the map needs', () => {
    const drawn = mapCollection(site)
    expect(drawn.features.map((f) => f.id)).toEqual([0, 1, 2])
    expect(drawn.features.map((f) => f.properties)).toEqual([
      { index: 0, kind: 'point' },
      { index: 1, kind: 'overlay' },
      // No report row (a core older or newer than this screen): the kind comes from the geometry.
      { index: 2, kind: 'line' },
    ])
    expect(drawn.features[0]!.geometry).toBe(site.collection.features[0]!.geometry)
  })
})

describe('overlays', () => {
  it('only embedded images with corners are drawn; the others say why not', () => {
    const linked = overlay({ image: null, href: 'https://example.com/etna.jpg' })
    const unplaced = overlay({ corners: null })
    expect(placedOverlays([linked, overlay(), unplaced])).toEqual([overlay()])
    expect(overlayStatus(overlay())).toBe('on the map, 640 × 480 px')
    expect(overlayStatus(linked)).toContain('only linked (https://example.com/etna.jpg)')
    expect(overlayStatus(unplaced)).toContain('no place on the map')
  })

  it('the largest file a browser may send fits the contract once in base64', () => {
    expect(Math.ceil(maxSiteFileBytes / 3) * 4).toBeLessThanOrEqual(30 * 1024 * 1024)
    expect(Math.ceil((maxSiteFileBytes + 3) / 3) * 4).toBeGreaterThan(30 * 1024 * 1024)
  })
})
