// Saving a site plan and opening it again: what was saved comes back, and a file that is not a site plan,
// is from a newer console, is damaged or is built to hurt is refused with the field at fault, never thrown.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { importSiteFile } from '../../electron/core/site/kml-import'
import type { SiteModel } from '../../shared/domain/site/model'
import { decodeSiteFile, encodeSiteFile, readSiteModel, siteFileFormat, type SiteFileDecoded } from '../../shared/domain/site/site-file'
import { siteFromFeatures } from '../../shared/domain/site/site-from-features'

const meta = { savedAt: '2025-03-14T09:30:00.000Z', generator: 'ESP Fleet Console 0.1.0' }

const site: SiteModel = {
  name: 'Depot Nord',
  origin: { lat: 48.137154, lon: 11.576124 },
  boundary: [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 100, y: 60 }, { x: 0, y: 60 }],
  zones: [
    { id: 'yard', name: 'Yard', polygon: [{ x: 5, y: 5 }, { x: 60, y: 5 }, { x: 60, y: 55 }, { x: 5, y: 55 }], kind: 'required' },
    { id: 'pond', name: 'Pond', polygon: [{ x: 70, y: 40 }, { x: 90, y: 40 }, { x: 80, y: 55 }], kind: 'excluded' },
  ],
  obstructions: [
    { id: 'north-wall', shape: { kind: 'segment', a: { x: 0, y: 58 }, b: { x: 60, y: 58 } }, material: 'concrete', heightM: 2.5, blocksSight: true, attenuationDb: 15 },
    { id: 'hall', shape: { kind: 'polygon', points: [{ x: 65, y: 5 }, { x: 95, y: 5 }, { x: 95, y: 30 }, { x: 65, y: 30 }] }, material: 'metal', heightM: 8, blocksSight: true, attenuationDb: 26 },
  ],
  mountingPoints: [
    { id: 'pole-1', x: 30, y: 30, heightM: 6, allowedKinds: ['camera', 'sensor', 'gateway', 'node'] },
    { id: 'hall-corner', x: 65, y: 30, heightM: 4, allowedKinds: ['camera'], orientationsDeg: [225, 315] },
    { id: 'cabinet', x: 10, y: 10, heightM: 1, allowedKinds: ['switch'] },
  ],
  devices: [
    { id: 'cam-1', partNumber: 'CAM-4MP-28', mountingPointId: 'pole-1', orientationDeg: 90, poeSwitchId: 'sw-1' },
    { id: 'sw-1', partNumber: 'SW-POE-8', mountingPointId: 'cabinet', orientationDeg: 0 },
  ],
}

function refused(result: SiteFileDecoded): Extract<SiteFileDecoded, { ok: false }> {
  if (result.ok) throw new Error('expected the file to be refused')
  return result
}

/** A saved file with one field changed, as a hand edit or a damaged disk would leave it. */
function tampered(change: (file: Record<string, unknown> & { site: Record<string, unknown> }) => void): string {
  const file = JSON.parse(encodeSiteFile(site, meta))
  change(file)
  return JSON.stringify(file)
}

describe('saving and opening a site plan', () => {
  it('opens exactly the plan that was saved, with when and by what', () => {
    const text = encodeSiteFile(site, meta)
    expect(decodeSiteFile(text)).toEqual({ ok: true, site, meta })
  })

  it('writes a tagged, versioned, indented file that diffs line by line', () => {
    const text = encodeSiteFile(site, meta)
    expect(text.split('\n').slice(0, 5)).toEqual(['{', `  "format": "${siteFileFormat}",`, '  "version": 1,', `  "savedAt": "${meta.savedAt}",`, `  "generator": "${meta.generator}",`])
    expect(text.endsWith('}\n')).toBe(true)
    expect(encodeSiteFile(site, meta)).toBe(text)
  })

  it('keeps only the plan: state a screen hung on the objects is not saved', () => {
    const decorated = { ...site, selection: ['yard'], zones: [{ ...site.zones[0]!, hovered: true }, site.zones[1]!] } as SiteModel
    const text = encodeSiteFile(decorated, { savedAt: meta.savedAt })
    expect(text).not.toMatch(/selection|hovered|generator/)
    expect(decodeSiteFile(text)).toEqual({ ok: true, site, meta: { savedAt: meta.savedAt } })
  })

  it('saves and reopens a plan imported from a surveyor\'s KML', () => {
    const fixture = join(import.meta.dirname, '../../../shared/fixtures/kml/togeojson-v7/style_url.kml')
    const imported = importSiteFile('style_url.kml', new Uint8Array(readFileSync(fixture)))
    if (!imported.ok) throw new Error(imported.error.message)
    const plan = siteFromFeatures(imported.collection, { importReport: imported.report }).site
    expect(decodeSiteFile(encodeSiteFile(plan, meta))).toEqual({ ok: true, site: plan, meta })
  })

  it('refuses to write a plan that could not be opened again, naming the field', () => {
    const broken = { ...site, mountingPoints: [{ ...site.mountingPoints[0]!, x: Number.NaN }, site.mountingPoints[1]!] }
    expect(() => encodeSiteFile(broken, meta)).toThrow('This site cannot be saved: site.mountingPoints[0].x must be a finite number, not NaN.')
    expect(() => encodeSiteFile(site, { savedAt: 'teatime' })).toThrow('savedAt must be a date and time (ISO 8601), not "teatime"')
  })
})

describe('files that are not this plan', () => {
  it('says a GeoJSON file is to be imported, not opened', () => {
    const error = refused(decodeSiteFile(JSON.stringify({ type: 'FeatureCollection', features: [] })))
    expect(error).toEqual({
      ok: false,
      path: 'format',
      error: 'The site file cannot be opened: format is missing: this is not a site plan saved by the console; it is GeoJSON, which is imported (File, Import) rather than opened.',
    })
  })

  it('names the format it found when it is another program\'s', () => {
    expect(refused(decodeSiteFile(tampered((f) => (f.format = 'qgis/project')))).error).toBe(
      `The site file cannot be opened: format is "qgis/project", not "${siteFileFormat}": this is not a site plan saved by the console.`,
    )
  })

  it('tells a file from a newer console apart from a damaged version field', () => {
    expect(refused(decodeSiteFile(tampered((f) => (f.version = 2)))).error).toBe(
      'The site file cannot be opened: version is 2: the file was saved by a newer console, and this one reads version 1; update the console to open it.',
    )
    expect(refused(decodeSiteFile(tampered((f) => (f.version = '1')))).error).toBe('The site file cannot be opened: version must be 1, not "1".')
  })

  it('says when the text is not JSON at all', () => {
    expect(refused(decodeSiteFile('{"format": "esp-fleet-console/site", ')).error).toMatch(/^The site file cannot be opened: the file is not valid JSON \(.+\), so it is not a site file\.$/)
    expect(refused(decodeSiteFile('[1, 2, 3]')).error).toBe('The site file cannot be opened: the file must be an object, not a list.')
  })
})

describe('damaged plans are refused at the field at fault', () => {
  const cases: [string, (f: { site: Record<string, unknown> } & Record<string, unknown>) => void, string, string][] = [
    ['a corner that is text', (f) => ((f.site.zones as { polygon: { x: unknown }[] }[])[1]!.polygon[2]!.x = 'abc'), 'site.zones[1].polygon[2].x', 'must be a finite number, not "abc"'],
    ['a material nobody knows', (f) => ((f.site.obstructions as { material: string }[])[0]!.material = 'adamantium'), 'site.obstructions[0].material', 'must be one of concrete, brick, block, drywall, wood, glass, metal, fence, vegetation, other, not "adamantium"'],
    ['a zone kind that is not one', (f) => ((f.site.zones as { kind: string }[])[0]!.kind = 'maybe'), 'site.zones[0].kind', 'must be one of required, optional, excluded, not "maybe"'],
    ['two mounting points with one id', (f) => ((f.site.mountingPoints as { id: string }[])[1]!.id = 'pole-1'), 'site.mountingPoints[1].id', 'repeats the id "pole-1" of site.mountingPoints[0]'],
    ['a device on a mounting point that is gone', (f) => (f.site.mountingPoints = []), 'site.devices[0].mountingPointId', 'names mounting point "pole-1", which is not in the site'],
    ['a latitude off the globe', (f) => ((f.site.origin as { lat: number }).lat = 123), 'site.origin.lat', 'must be between -90 and 90, not 123'],
    ['a missing list', (f) => delete f.site.devices, 'site.devices', 'is missing; it must be a list'],
    ['a device kind nobody sells', (f) => ((f.site.mountingPoints as { allowedKinds: string[] }[])[1]!.allowedKinds = ['laser']), 'site.mountingPoints[1].allowedKinds[0]', 'must be one of camera, sensor, gateway, node, switch, not "laser"'],
    ['a PoE feed from a switch that is gone', (f) => (f.site.devices as unknown[]).pop(), 'site.devices[0].poeSwitchId', 'names device "sw-1" as its PoE switch, which is not a device in the site'],
    ['an unreadable save time', (f) => (f.savedAt = 'yesterday'), 'savedAt', 'must be a date and time (ISO 8601), not "yesterday"'],
  ]
  for (const [what, change, path, problem] of cases) {
    it(`${what}: ${path}`, () => {
      expect(refused(decodeSiteFile(tampered(change)))).toEqual({ ok: false, path, error: `The site file cannot be opened: ${path} ${problem}.` })
    })
  }
})

describe('a model sent by the screen rather than read from a file', () => {
  it('is checked as a file\'s site is, named from the field it came in, and copied without what the screen hung on it', () => {
    const decorated = { ...site, selection: ['yard'] }
    expect(readSiteModel(decorated, 'model')).toEqual({ ok: true, site })
    const gone = { ...site, mountingPoints: site.mountingPoints.slice(1) }
    expect(readSiteModel(gone, 'model')).toEqual({ ok: false, path: 'model.devices[0].mountingPointId', error: 'model.devices[0].mountingPointId names mounting point "pole-1", which is not in the site.' })
    expect(readSiteModel(null)).toEqual({ ok: false, path: 'site', error: 'site must be an object, not null.' })
  })
})

describe('hostile files cost nothing and never throw', () => {
  const header = `{"format":"${siteFileFormat}","version":1,"savedAt":"${meta.savedAt}",`

  it('refuses ten million nested lists before building any of them', () => {
    const depth = 10_000_000
    const started = performance.now()
    const error = refused(decodeSiteFile(`${header}"site":${'['.repeat(depth)}${']'.repeat(depth)}}`)).error
    expect(error).toBe(`The site file cannot be opened: the file nests lists and objects more than 32 deep (at character ${header.length + 7 + 32}); no site file does.`)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('counts brackets inside strings as text, so a name with brackets is fine', () => {
    const named = { ...site, name: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ {{{{ "quoted" \\' }
    expect(decodeSiteFile(encodeSiteFile(named, meta))).toMatchObject({ ok: true, site: { name: named.name } })
  })

  it('refuses a list of two million corners by its length, before reading one', () => {
    const text = tampered((f) => (f.site.boundary = new Array(2_000_000).fill(0)))
    expect(refused(decodeSiteFile(text))).toMatchObject({ path: 'site.boundary', error: 'The site file cannot be opened: site.boundary holds 2,000,000 entries; the console opens at most 100,000.' })
  })

  it('refuses more than 100 000 points spread over several zones', () => {
    const ring = Array.from({ length: 60_000 }, (_, i) => ({ x: Math.cos(i), y: Math.sin(i) }))
    const text = tampered((f) => (f.site.zones = [{ id: 'a', name: 'A', polygon: ring, kind: 'required' }, { id: 'b', name: 'B', polygon: ring, kind: 'required' }]))
    expect(refused(decodeSiteFile(text))).toMatchObject({ path: 'site.zones[1].polygon', error: expect.stringContaining('takes the file past 100,000 points') })
  })

  it('refuses a file larger than any site plan without parsing it', () => {
    const huge = `${header}"site":{"name":"${'x'.repeat(33 * 1024 * 1024)}"}}`
    expect(refused(decodeSiteFile(huge)).error).toMatch(/^The site file cannot be opened: the file is 33\.0 million characters long; a site file is at most 32 million\.$/)
  })

  it('ignores a __proto__ key instead of letting it reach any object', () => {
    const text = encodeSiteFile(site, meta).replace('"name": "Depot Nord",', '"name": "Depot Nord", "__proto__": {"polluted": true},')
    const opened = decodeSiteFile(text)
    expect(opened).toEqual({ ok: true, site, meta })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('answers every truncation and every value swapped for another type with a refusal, not an exception', () => {
    const text = encodeSiteFile(site, meta)
    for (let end = 0; end < text.length - 2; end += 7) expect(decodeSiteFile(text.slice(0, end)).ok).toBe(false)
    const values = [...text.matchAll(/: ("[^"]*"|-?\d+(?:\.\d+)?|true|false)/g)]
    for (const match of values) {
      for (const replacement of ['null', '{}', '[]', '"x"', '-1e999', '0']) {
        const swapped = text.slice(0, match.index) + ': ' + replacement + text.slice(match.index + match[0].length)
        expect(() => decodeSiteFile(swapped)).not.toThrow()
      }
    }
    expect(values.length).toBeGreaterThan(50)
    expect(refused(decodeSiteFile(undefined as unknown as string)).error).toBe('The site file cannot be opened: it is not text.')
  })
})
