// Site file import: KML, KMZ, GeoJSON and overlay images, held to togeojson's own test data (converted by
// togeojson 7.1.3 on xmldom 0.9.12, shared/fixtures/kml/togeojson-v7) and to files built to hurt.

import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import { zipSync, type Zippable } from 'fflate'
import { describe, expect, it } from 'vitest'
import { importSiteFile } from '../../electron/core/site/kml-import'
import { findMarkupDeclaration } from '../../electron/core/site/import-text'
import {
  checkGeometry,
  classifyGeometry,
  findPolygonIntersection,
  latLonBoxCorners,
  latLonQuadCorners,
  placeImageByTwoPoints,
  positionProblem,
  summarizeImport,
  type Feature,
  type FeatureCollection,
  type Geometry,
  type Position,
  type SiteImportResult,
} from '../../shared/domain/site/import-report'

const fixtures = join(import.meta.dirname, '../../../shared/fixtures/kml/togeojson-v7')
const encode = (text: string): Uint8Array => new TextEncoder().encode(text)
const MiB = 1024 * 1024

function kml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">\n<Document>\n${body}\n</Document>\n</kml>\n`
}

function ok(result: SiteImportResult): Extract<SiteImportResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected an import, got ${result.error.code}: ${result.error.message}`)
  return result
}

function refused(result: SiteImportResult): Extract<SiteImportResult, { ok: false }>['error'] {
  if (result.ok) throw new Error(`expected a refusal, got ${result.report.imported.length} imported features`)
  return result.error
}

function importKml(body: string): Extract<SiteImportResult, { ok: true }> {
  return ok(importSiteFile('site.kml', encode(kml(body))))
}

/** A real PNG (RGBA, one grey row after another), so the bytes handed to the screen decode. */
function png(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const out = Buffer.alloc(body.length + 8)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body) >>> 0, body.length + 4)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 6, 0, 0, 0], 8)
  const raw = Buffer.alloc((width * 4 + 1) * height, 0x80)
  for (let y = 0; y < height; y++) raw[y * (width * 4 + 1)] = 0
  return new Uint8Array(
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]),
  )
}

/** Rewrites what an archive's central directory claims about an entry, as a hostile KMZ would. */
function patchCentralDirectory(zip: Uint8Array, name: string, patch: { size?: number; crc?: number }): Uint8Array {
  const out = zip.slice()
  const view = new DataView(out.buffer)
  for (let p = 0; p + 46 <= out.length; p++) {
    if (view.getUint32(p, true) !== 0x02014b50) continue
    const nameLength = view.getUint16(p + 28, true)
    if (new TextDecoder().decode(out.subarray(p + 46, p + 46 + nameLength)) !== name) continue
    if (patch.size !== undefined) view.setUint32(p + 24, patch.size, true)
    if (patch.crc !== undefined) view.setUint32(p + 16, patch.crc, true)
    return out
  }
  throw new Error(`no directory record for ${name}`)
}

function groundOverlay(href: string, name = 'Site plan'): string {
  return `<GroundOverlay><name>${name}</name><Icon><href>${href}</href></Icon>
    <LatLonBox><north>51.5010</north><south>51.5000</south><east>-0.1400</east><west>-0.1420</west><rotation>0</rotation></LatLonBox></GroundOverlay>`
}

const mast = '<Placemark><name>Mast</name><Point><coordinates>-0.141,51.5005</coordinates></Point></Placemark>'

// ---- Reference fixtures ----

/**
 * Where the console's collection differs from togeojson's output, and why. These are exactly the features
 * the console does not import: togeojson keeps a Placemark whose coordinates it could not read as
 * `geometry: null`, and represents a NetworkLink by its region; the console reports both instead.
 */
const expectedSkips: Record<string, [number, RegExp][]> = {
  'addresses.kml': [0, 2, 8, 9, 10, 11, 12, 14].map((i) => [i, /^no coordinates: its Point and gx:Track are empty$/]),
  'bad.kml': [
    [0, /^Point \(line 4\): "no,no" is not longitude,latitude\[,altitude\]$/],
    [1, /^LineString \(line 11\): coordinate 1 "no,no,0" is not longitude,latitude\[,altitude\]$/],
    [2, /^LinearRing \(line 26\): coordinate 1 "no,30" is not longitude,latitude\[,altitude\]$/],
  ],
  'networklink.kml': [[0, /^a NetworkLink to https:\/\/tiny\.url is not followed: the console works offline/]],
  'nogeomplacemark.kml': [[0, /^no geometry: the Placemark has no Point, LineString/]],
  'null_geometry.kml': [[0, /^no geometry: the Placemark has no Point, LineString/]],
  'selfclosing.kml': [[0, /^no coordinates: its LineString is empty$/]],
}

describe('KML against togeojson 7.1.3 (shared/fixtures/kml/togeojson-v7)', () => {
  const names = readdirSync(fixtures).filter((f) => f.endsWith('.kml')).sort()

  it('has all 35 fixtures with their expected GeoJSON', () => {
    expect(names).toHaveLength(35)
  })

  for (const name of names) {
    it(`${name}: the collection is togeojson's, less exactly the reported skips`, () => {
      const expected = JSON.parse(readFileSync(join(fixtures, `${name}.geojson`), 'utf8')) as FeatureCollection
      const result = ok(importSiteFile(name, new Uint8Array(readFileSync(join(fixtures, name)))))
      const skips = expectedSkips[name] ?? []

      expect(result.report.skipped.map((s) => s.index)).toEqual(skips.map(([i]) => i))
      result.report.skipped.forEach((skip, k) => {
        expect(skip.reason).toMatch(skips[k]![1])
        // Each difference is a feature the console cannot place: togeojson lost its geometry, or it is a link.
        const dropped = expected.features[skip.index]!
        expect(dropped.geometry === null || dropped.properties?.['@geometry-type'] === 'networklink').toBe(true)
        expect(skip.name).toBe((dropped.properties?.name as string | undefined)?.trim() || null)
      })

      const skipped = new Set(skips.map(([i]) => i))
      const kept = expected.features.filter((_, i) => !skipped.has(i))
      expect(result.collection).toStrictEqual({ type: 'FeatureCollection', features: kept })
      expect(result.report.imported.map((f) => f.index)).toEqual(expected.features.map((_, i) => i).filter((i) => !skipped.has(i)))
      result.report.imported.forEach((entry, k) => {
        const feature = result.collection.features[k]!
        const overlay = feature.properties?.['@geometry-type'] === 'groundoverlay'
        expect(entry.kind).toBe(overlay ? 'overlay' : classifyGeometry(feature.geometry!))
      })
    })
  }

  it('keeps the folder path, the name and the line of what it reports', () => {
    const result = ok(importSiteFile('nogeomplacemark.kml', new Uint8Array(readFileSync(join(fixtures, 'nogeomplacemark.kml')))))
    expect(result.report.skipped[0]).toMatchObject({ name: 'With all inline styles', folder: 'Inline style test', line: 6 })
    const overlay = ok(importSiteFile('ground_overlay.kml', new Uint8Array(readFileSync(join(fixtures, 'ground_overlay.kml')))))
    expect(overlay.report.imported).toEqual([{ index: 0, name: 'Large-scale overlay on terrain', kind: 'overlay', folder: 'Ground Overlays' }])
  })

  it('says which values it dropped from a coordinate with more than three', () => {
    const result = ok(importSiteFile('x.kml', new Uint8Array(readFileSync(join(fixtures, 'point_extra_coordinates.kml')))))
    expect(result.report.warnings).toEqual(['Placemark "Simple placemark" (line 3): 1 coordinate has more than longitude, latitude and altitude; the extra values were dropped.'])
  })

  it('captures GroundOverlays: the LatLonBox with its rotation, and the gx:LatLonQuad corners', () => {
    const box = ok(importSiteFile('g.kml', new Uint8Array(readFileSync(join(fixtures, 'ground_overlay.kml')))))
    expect(box.overlays).toHaveLength(1)
    const [overlay] = box.overlays
    expect(overlay!.image).toEqual({ kind: 'linked', href: 'https://developers.google.com/kml/documentation/images/etna.jpg' })
    expect(overlay!.bounds).toEqual({ north: 37.91904192681665, south: 37.46543388598137, east: 15.35832653742206, west: 14.60128369746704, rotation: -0.1556640799496235 })
    // The image's corners are the footprint togeojson drew, so image and outline agree.
    const footprint = (box.collection.features[0]!.geometry as { coordinates: Position[][] }).coordinates[0]!
    expect(overlay!.corners).toEqual(footprint.slice(0, 4))
    expect(box.report.warnings[0]).toMatch(/is on the web and is not fetched \(the console works offline\)/)

    const quad = ok(importSiteFile('q.kml', new Uint8Array(readFileSync(join(fixtures, 'ground_overlay_quad.kml')))))
    expect(quad.overlays[0]!.bounds).toBeNull()
    // KML lists the quad from the lower left, counter-clockwise; the screen wants top-left first.
    expect(quad.overlays[0]!.corners).toEqual([
      [81.509322, 44.321015],
      [82.947737, 44.248831],
      [83.529902, 43.665148],
      [81.601884, 44.160723],
    ])
  })
})

// ---- Hostile and broken input ----

describe('entity expansion and other declarations', () => {
  const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol9;</name><Point><coordinates>1,2</coordinates></Point></Placemark></kml>`

  it('refuses a billion laughs before parsing: fast, and without growing the heap', () => {
    const heapBefore = process.memoryUsage().heapUsed
    const started = performance.now()
    const error = refused(importSiteFile('lol.kml', encode(laughs)))
    expect(performance.now() - started).toBeLessThan(100)
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * MiB)
    expect(error.code).toBe('doctype')
    expect(error.line).toBe(2)
    expect(error.message).toMatch(/DOCTYPE declaration \(line 2\).*billion laughs.*Nothing was imported\.$/)
  })

  it('refuses it however it is dressed: lower case, after a comment, UTF-16, inside a KMZ, external entities', () => {
    const variants: [string, Uint8Array][] = [
      ['lower case', encode(laughs.replace('<!DOCTYPE', '<!doctype'))],
      ['after a comment', encode(`<!-- survey export -->\n${laughs.replace('<?xml version="1.0"?>\n', '')}`)],
      ['UTF-16 with a BOM', new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(laughs.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')]))],
      ['in a KMZ', zipSync({ 'doc.kml': encode(laughs) })],
      ['an external entity', encode('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]><kml><Placemark><name>&x;</name></Placemark></kml>')],
      ['an ENTITY without a DOCTYPE', encode('<kml><!ENTITY x "y"><Placemark/></kml>')],
    ]
    for (const [label, bytes] of variants) {
      expect(refused(importSiteFile(`${label}.kml`, bytes)).code, label).toBe('doctype')
    }
  })

  it('reads "<!DOCTYPE" quoted as text inside CDATA or a comment', () => {
    const result = importKml(`<!-- <!DOCTYPE html> --><Placemark><name>Gate</name><description><![CDATA[<!DOCTYPE html><p>hi</p>]]></description><Point><coordinates>10,50</coordinates></Point></Placemark>`)
    expect(result.report.imported).toHaveLength(1)
    expect(findMarkupDeclaration('<a><![CDATA[ <!ENTITY x "y"> ]]></a>')).toBeNull()
  })
})

describe('broken XML and files that are not site files', () => {
  it('reports the first XML error with its line and imports nothing', () => {
    const error = refused(importSiteFile('broken.kml', encode('<?xml version="1.0"?>\n<kml>\n  <Placemark>\n    <name>x</name>\n  </Placemrk>\n</kml>')))
    expect(error.code).toBe('malformed-xml')
    expect(error.message).toMatch(/^The KML is not well-formed XML \(line 4, column \d+\): Opening and ending tag mismatch: "Placemark" != "Placemrk"\. Nothing was imported\.$/)
    expect(error.line).toBe(4)
  })

  it('treats everything the parser had to guess at as broken', () => {
    const cases: [string, RegExp][] = [
      ['<kml>\n<Placemark>\n<name>cut short', /unclosed xml tag/],
      ['<kml><name>&nbsp;</name></kml>', /entity not found:&nbsp;/],
      ['<kml><Placemark id=abc><name>x</name></Placemark></kml>', /missed quot/],
      ['<kml></kml><kml></kml>', /Only one element can be added/],
      ['<kml><a></b></kml>', /Opening and ending tag mismatch/],
    ]
    for (const [text, pattern] of cases) {
      const error = refused(importSiteFile('bad.kml', encode(text)))
      expect(error.code, text).toBe('malformed-xml')
      expect(error.message, text).toMatch(pattern)
    }
  })

  it('tells other XML, empty files and other files apart', () => {
    expect(refused(importSiteFile('track.gpx', encode('<gpx><trk/></gpx>')))).toMatchObject({ code: 'not-kml', message: expect.stringMatching(/root element is <gpx>, not <kml>/) })
    expect(refused(importSiteFile('empty.kml', new Uint8Array(0))).code).toBe('empty')
    expect(refused(importSiteFile('notes.txt', encode('hello')))).toMatchObject({ code: 'unsupported-format' })
    expect(refused(importSiteFile('odd.kml', encode('<?xml version="1.0" encoding="x-klingon"?><kml/>'))).code).toBe('encoding')
  })

  it('reads a KML in Latin-1 as it declares, and says so when UTF-8 bytes are broken', () => {
    const latin1 = Buffer.from(kml('<Placemark><name>Tête de puits</name><Point><coordinates>2,48</coordinates></Point></Placemark>').replace('UTF-8', 'ISO-8859-1'), 'latin1')
    const result = ok(importSiteFile('fr.kml', new Uint8Array(latin1)))
    expect(result.report.imported[0]!.name).toBe('Tête de puits')
    expect(result.report.warnings).toEqual([])
    // The same bytes declared as UTF-8 are imported with the damage named.
    const mislabelled = ok(importSiteFile('fr.kml', new Uint8Array(Buffer.from(kml('<Placemark><name>Tête</name><Point><coordinates>2,48</coordinates></Point></Placemark>'), 'latin1'))))
    expect(mislabelled.report.warnings[0]).toMatch(/not valid utf-8: some bytes could not be read/)
  })
})

describe('size limits', () => {
  it('refuses a 60 MB file by its size, before decoding or parsing it', () => {
    const bytes = new Uint8Array(60 * 1000 * 1000).fill(0x20)
    bytes.set(encode('<kml>'), 0)
    const started = performance.now()
    const error = refused(importSiteFile('huge.kml', bytes))
    expect(performance.now() - started).toBeLessThan(50)
    expect(error).toEqual({ code: 'too-large', message: 'huge.kml is 57.2 MiB; the console imports site files of up to 50.0 MiB. Nothing was imported.' })
  })

  it('holds KML text to its own, smaller limit', () => {
    const bytes = new Uint8Array(25 * MiB).fill(0x20)
    bytes.set(encode('<kml>'), 0)
    expect(refused(importSiteFile('big.kml', bytes)).message).toMatch(/^big\.kml is 25\.0 MiB of KML; the console reads KML of up to 20\.0 MiB/)
    expect(refused(importSiteFile('small.kml', encode(kml(mast)), { maxTextBytes: 100 })).code).toBe('too-large')
  })
})

describe('KMZ archives', () => {
  it('imports doc.kml and the overlay image it holds', () => {
    const image = png(40, 30)
    const kmz = zipSync({ 'doc.kml': encode(kml(groundOverlay('files/site plan.png') + mast)), 'files/site plan.png': image, 'files/readme.txt': encode('notes') })
    const result = ok(importSiteFile('site.kmz', kmz))
    expect(result.report.format).toBe('kmz')
    expect(result.report.imported.map((f) => [f.name, f.kind])).toEqual([
      ['Mast', 'point'],
      ['Site plan', 'overlay'],
    ])
    expect(result.overlays).toHaveLength(1)
    const overlay = result.overlays[0]!
    expect(overlay.index).toBe(1)
    expect(overlay.image).toMatchObject({ kind: 'embedded', fileName: 'files/site plan.png', mime: 'image/png', width: 40, height: 30 })
    expect(overlay.image.kind === 'embedded' && Buffer.from(overlay.image.bytes).equals(Buffer.from(image))).toBe(true)
    expect(overlay.bounds).toEqual({ north: 51.501, south: 51.5, east: -0.14, west: -0.142, rotation: 0 })
    expect(overlay.corners).toEqual([[-0.142, 51.501], [-0.14, 51.501], [-0.14, 51.5], [-0.142, 51.5]])
    expect(result.report.warnings).toEqual(['1 file in the KMZ is not used by any overlay: files/readme.txt.'])
  })

  it('finds images relative to a KML in a folder, percent-encoded, and takes doc.kml over other documents', () => {
    const kmz = zipSync({
      'a/first.kml': encode(kml(mast)),
      'doc.kml': encode(kml(groundOverlay('images/plan%20v2.png'))),
      'images/plan v2.png': png(4, 4),
    })
    const result = ok(importSiteFile('site.kmz', kmz))
    expect(result.overlays[0]!.image).toMatchObject({ kind: 'embedded', fileName: 'images/plan v2.png' })
    expect(result.report.warnings).toEqual(['Only doc.kml was read; the KMZ also holds a/first.kml, which was not.'])
    const nested = ok(importSiteFile('n.kmz', zipSync({ 'site/main.kml': encode(kml(groundOverlay('../img/p.png'))), 'img/p.png': png(2, 2) })))
    expect(nested.overlays[0]!.image).toMatchObject({ kind: 'embedded', fileName: 'img/p.png' })
  })

  it('keeps an overlay whose image is missing as a link, and skips one whose image the map cannot show', () => {
    const tiff = new Uint8Array([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0])
    const kmz = zipSync({ 'doc.kml': encode(kml(groundOverlay('missing.png', 'Old plan') + groundOverlay('survey.tif', 'Ortho'))), 'survey.tif': tiff })
    const result = ok(importSiteFile('site.kmz', kmz))
    expect(result.overlays.map((o) => o.image)).toEqual([{ kind: 'linked', href: 'missing.png' }])
    expect(result.report.warnings).toEqual(['GroundOverlay "Old plan" (line 4): its image missing.png is not inside the KMZ; import the image itself and place it by two points.'])
    expect(result.report.skipped).toEqual([
      { index: 1, name: 'Ortho', folder: null, line: 5, reason: 'its image survey.tif cannot be shown: it is a TIFF (a GeoTIFF?), which the map cannot show; export it as PNG or JPEG' },
    ])
    expect(result.collection.features).toHaveLength(1)
  })

  it('refuses a KML inside the KMZ that declares more than the KML limit, without inflating it', () => {
    // What the archive declares is checked before a byte is inflated, so the claim alone is enough.
    const kmz = patchCentralDirectory(zipSync({ 'doc.kml': encode(kml(mast)) }), 'doc.kml', { size: 30 * MiB })
    const started = performance.now()
    const error = refused(importSiteFile('bomb.kmz', kmz))
    expect(performance.now() - started).toBeLessThan(100)
    expect(error).toMatchObject({ code: 'archive-limits', message: expect.stringMatching(/^doc\.kml in bomb\.kmz inflates to 30\.0 MiB; the console reads KML of up to 20\.0 MiB/) })
  })

  it('skips an overlay whose image would inflate past the KMZ limit and imports the rest', () => {
    const kmz = patchCentralDirectory(zipSync({ 'doc.kml': encode(kml(groundOverlay('bomb.png') + mast)), 'bomb.png': png(2, 2) }), 'bomb.png', { size: 100 * MiB })
    const result = ok(importSiteFile('bomb.kmz', kmz))
    expect(result.report.imported.map((f) => f.name)).toEqual(['Mast'])
    expect(result.report.skipped[0]!.reason).toMatch(/^its image bomb\.png inflates to 100\.0 MiB, more than the 64\.0 MiB left of the KMZ import limit$/)
    expect(result.overlays).toEqual([])
  })

  it('refuses a zip bomb whose header lies about its size, stopping as soon as the data outgrows the claim', () => {
    // A real bomb: 64 MiB of zeros deflate to about 64 KiB.
    const honest = zipSync({ 'doc.kml': encode(kml(groundOverlay('plan.png'))), 'plan.png': new Uint8Array(64 * MiB) }, { level: 1 })
    expect(honest.length).toBeLessThan(MiB / 4)
    const lying = patchCentralDirectory(honest, 'plan.png', { size: 1024 })
    const started = performance.now()
    const error = refused(importSiteFile('bomb.kmz', lying))
    expect(performance.now() - started).toBeLessThan(1000)
    expect(error.code).toBe('bad-archive')
    expect(error.message).toMatch(/^plan\.png in bomb\.kmz cannot be read: it inflates past the 1\.0 KiB its header declares: .*zip bomb.*Nothing was imported\.$/)
    // A doc.kml that lies is refused the same way.
    const lyingKml = patchCentralDirectory(zipSync({ 'doc.kml': encode(kml(mast).padEnd(200_000)) }), 'doc.kml', { size: 100 })
    expect(refused(importSiteFile('bomb.kmz', lyingKml)).message).toMatch(/inflates past the 100 bytes its header declares/)
  })

  it('refuses an archive with too many entries before reading them', () => {
    const files: Zippable = { 'doc.kml': encode(kml(mast)) }
    for (let i = 0; i < 2500; i++) files[`f/${i}.txt`] = new Uint8Array(0)
    expect(refused(importSiteFile('many.kmz', zipSync(files)))).toMatchObject({ code: 'archive-limits', message: expect.stringMatching(/lists 2501 files; the console reads KMZ archives of up to 2000/) })
  })

  it('refuses damaged archives and says why', () => {
    const kmz = zipSync({ 'doc.kml': encode(kml(mast)) })
    expect(refused(importSiteFile('cut.kmz', kmz.subarray(0, kmz.length - 30))).code).toBe('bad-archive')
    expect(refused(importSiteFile('crc.kmz', patchCentralDirectory(kmz, 'doc.kml', { crc: 1 })))).toMatchObject({ code: 'bad-archive', message: expect.stringMatching(/checksum does not match/) })
    expect(refused(importSiteFile('none.kmz', zipSync({ 'a.txt': encode('x') })))).toMatchObject({ code: 'no-kml-in-archive' })
  })
})

describe('coordinates', () => {
  it('skips a feature with a coordinate off the globe, whole, and imports its neighbours', () => {
    const result = importKml(`${mast}
<Placemark><name>North of the pole</name><Point><coordinates>10,95</coordinates></Point></Placemark>
<Placemark><name>Far east</name><LineString><coordinates>179,10 200,10</coordinates></LineString></Placemark>
<Placemark><name>Overflow</name><Point><coordinates>1e999,10</coordinates></Point></Placemark>`)
    expect(result.report.imported.map((f) => f.name)).toEqual(['Mast'])
    expect(result.report.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['North of the pole', 'latitude 95 is outside −90..90 (are longitude and latitude swapped?)'],
      ['Far east', 'position 2: longitude 200 is outside −180..180'],
      ['Overflow', 'longitude Infinity is not a finite number'],
    ])
  })

  it('skips features whose coordinates are missing or unreadable instead of importing what togeojson salvaged', () => {
    const result = importKml(`
<Placemark><name>Empty</name><Point><coordinates></coordinates></Point></Placemark>
<Placemark><name>Lost</name></Placemark>
<Placemark><name>Short line</name><LineString><coordinates>1,2</coordinates></LineString></Placemark>
<Placemark><name>Half line</name><LineString><coordinates>1,2 3,4 5,x</coordinates></LineString></Placemark>
<Placemark><name>Spaced</name><LineString><coordinates>1, 2 3, 4</coordinates></LineString></Placemark>
<Placemark><name>Two in a point</name><Point><coordinates>1,2 3,4</coordinates></Point></Placemark>
<Placemark><name>Thin ring</name><Polygon><outerBoundaryIs><LinearRing><coordinates>1,1 2,2 1,1</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>Part broken</name><MultiGeometry><Point><coordinates>1,2</coordinates></Point><LineString><coordinates>1,2 x,y</coordinates></LineString></MultiGeometry></Placemark>
<Placemark><name>Model</name><Model><Location><longitude>1</longitude><latitude>2</latitude></Location></Model></Placemark>
<Placemark><name>Spaced point</name><Point><coordinates> 1, 2 </coordinates></Point></Placemark>`)
    expect(result.report.imported.map((f) => f.name)).toEqual(['Spaced point'])
    expect(Object.fromEntries(result.report.skipped.map((s) => [s.name, s.reason]))).toEqual({
      Empty: 'no coordinates: its Point is empty',
      Lost: 'no geometry: the Placemark has no Point, LineString, LinearRing, Polygon, MultiGeometry or gx:Track',
      'Short line': 'LineString (line 7) has 1 position; a line needs at least 2',
      'Half line': 'LineString (line 8): coordinate 3 "5,x" is not longitude,latitude[,altitude]',
      Spaced: 'LineString (line 9): coordinate 1 "1," is not longitude,latitude[,altitude] (a space next to a comma splits a coordinate in two)',
      'Two in a point': 'Point (line 10) has 2 coordinate tuples; a Point takes one',
      'Thin ring': 'Polygon (line 11): its outer boundary has 2 corners; a ring needs at least 3',
      'Part broken': 'LineString (line 12): coordinate 2 "x,y" is not longitude,latitude[,altitude]',
      Model: 'not imported: it holds a 3D Model, which the site map does not show',
    })
  })

  it('says when Placemarks are hidden behind a namespace prefix', () => {
    const text = '<kml:kml xmlns:kml="http://www.opengis.net/kml/2.2"><kml:Placemark><kml:Point><kml:coordinates>1,2</kml:coordinates></kml:Point></kml:Placemark></kml:kml>'
    const result = ok(importSiteFile('prefixed.kml', encode(text)))
    expect(result.report.warnings).toEqual([
      '1 element is written with a namespace prefix (such as <kml:Placemark>) and was not read: togeojson reads KML in its default namespace only. Export the file again without the prefix.',
      'The file holds no features to import.',
    ])
  })

  it('refuses a gx:Track coordinate that togeojson would turn into NaN', () => {
    const result = importKml('<Placemark><name>Walk</name><gx:Track><when>2020</when><when>2021</when><gx:coord>1 2 0</gx:coord><gx:coord>1  2 0</gx:coord></gx:Track></Placemark>')
    expect(result.report.skipped[0]!.reason).toMatch(/^gx:Track \(line 4\): gx:coord 2 "1 {2}2 0" is not "longitude latitude \[altitude\]" with single spaces$/)
  })
})

describe('self-intersecting polygons', () => {
  const polygon = (name: string, outer: string, inner = ''): string =>
    `<Placemark><name>${name}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>${outer}</coordinates></LinearRing></outerBoundaryIs>${inner ? `<innerBoundaryIs><LinearRing><coordinates>${inner}</coordinates></LinearRing></innerBoundaryIs>` : ''}</Polygon></Placemark>`

  it('skips a bow-tie and a hole that crosses its outline, and says where', () => {
    const result = importKml(
      polygon('Yard', '0,0 4,0 4,4 0,4 0,0', '1,1 2,1 2,2 1,2 1,1') +
        polygon('Bow-tie', '0,0 2,2 2,0 0,2 0,0') +
        polygon('Leaky hole', '0,0 4,0 4,4 0,4 0,0', '3,1 5,1 5,2 3,2 3,1') +
        polygon('Pinched', '0,0 4,0 2,2 4,4 0,4 2,2 0,0'),
    )
    expect(result.report.imported.map((f) => [f.name, f.kind])).toEqual([['Yard', 'polygon']])
    expect(Object.fromEntries(result.report.skipped.map((s) => [s.name, s.reason]))).toEqual({
      'Bow-tie': 'the polygon crosses itself at (1, 1): the edge from position 1 of ring 1 and the edge from position 3 of ring 1; a self-crossing outline has no well-defined inside',
      'Leaky hole': 'ring 2 crosses ring 1 at (4, 1): the edge from position 2 of ring 1 and the edge from position 1 of ring 2',
      Pinched: 'the polygon touches itself at (2, 2): the edge from position 2 of ring 1 and the edge from position 5 of ring 1',
    })
  })

  it('skips a twisted gx:LatLonQuad overlay', () => {
    const result = importKml('<GroundOverlay><name>Twisted</name><Icon><href>a.png</href></Icon><gx:LatLonQuad><coordinates>0,0 1,1 1,0 0,1</coordinates></gx:LatLonQuad></GroundOverlay>')
    expect(result.report.skipped[0]!.reason).toMatch(/^its outline is unusable: the polygon crosses itself at \(0\.5, 0\.5\)/)
    expect(result.overlays).toEqual([])
  })

  it('imports a polygon it could not finish checking, and says so', () => {
    const ring = Array.from({ length: 400 }, (_, i) => `${Math.cos((i / 400) * 2 * Math.PI)},${Math.sin((i / 400) * 2 * Math.PI)}`).join(' ')
    const result = ok(importSiteFile('c.kml', encode(kml(polygon('Circle', ring))), { maxEdgePairTests: 10 }))
    expect(result.report.imported).toHaveLength(1)
    expect(result.report.warnings).toEqual(['Placemark "Circle" (line 4): not fully checked for self-intersection: too many edges (more than 10 edge pairs to compare).'])
  })
})

describe('GroundOverlay boxes', () => {
  it('skips overlays whose box is missing, unreadable or upside down', () => {
    const box = (name: string, inner: string): string => `<GroundOverlay><name>${name}</name><Icon><href>a.png</href></Icon>${inner}</GroundOverlay>`
    const result = importKml(
      box('No box', '') +
        box('No east', '<LatLonBox><north>1</north><south>0</south><west>0</west></LatLonBox>') +
        box('Words', '<LatLonBox><north>one</north><south>0</south><east>1</east><west>0</west></LatLonBox>') +
        box('Upside down', '<LatLonBox><north>0</north><south>1</south><east>1</east><west>0</west></LatLonBox>') +
        box('Antimeridian', '<LatLonBox><north>1</north><south>0</south><east>-179</east><west>179</west></LatLonBox>'),
    )
    expect(result.report.imported).toEqual([])
    expect(result.report.skipped.map((s) => s.reason)).toEqual([
      'no LatLonBox or gx:LatLonQuad: the overlay has no place on the map',
      'its LatLonBox has no <east>',
      'its LatLonBox <north> "one" is not a number',
      'its LatLonBox is unusable: north 0 is not north of south 1',
      'its LatLonBox is unusable: east -179 is not east of west 179 (an overlay across the antimeridian is not supported)',
    ])
  })
})

describe('GeoJSON files', () => {
  const feature = (geometry: unknown, name?: string): object => ({ type: 'Feature', properties: name ? { name } : {}, geometry })

  it('imports valid features as they are and reports the others', () => {
    const valid = feature({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }, 'Yard')
    const text = JSON.stringify({
      type: 'FeatureCollection',
      features: [
        valid,
        feature(null, 'Nowhere'),
        feature({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] }, 'Open ring'),
        feature({ type: 'Point', coordinates: [0, 91] }, 'Pole'),
        feature({ type: 'Point', coordinates: ['1', 2] }, 'Text'),
        feature({ type: 'Circle', coordinates: [0, 0] }, 'Circle'),
        feature({ type: 'MultiPolygon', coordinates: [[[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]] }, 'Tie'),
        { type: 'Thing' },
        feature({ type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [1, 1] }, { type: 'LineString', coordinates: [[0, 0], [1, 1]] }] }, 'Both'),
      ],
    })
    const result = ok(importSiteFile('site.geojson', encode(text)))
    expect(result.collection.features).toEqual([JSON.parse(JSON.stringify(valid)), expect.objectContaining({ properties: { name: 'Both' } })])
    expect(result.report.imported).toEqual([
      { index: 0, name: 'Yard', kind: 'polygon', folder: null },
      { index: 8, name: 'Both', kind: 'mixed', folder: null },
    ])
    expect(result.report.skipped.map((s) => [s.index, s.reason])).toEqual([
      [1, 'no geometry: the feature has no coordinates to place on the map'],
      [2, 'ring 1: the ring is not closed (its first and last positions differ)'],
      [3, 'latitude 91 is outside −90..90 (are longitude and latitude swapped?)'],
      [4, 'longitude is string, not a number'],
      [5, '"Circle" is not a GeoJSON geometry type'],
      [6, 'polygon 1: the polygon crosses itself at (1, 1): the edge from position 1 of ring 1 and the edge from position 3 of ring 1; a self-crossing outline has no well-defined inside'],
      [7, 'not a GeoJSON Feature (its type is not "Feature")'],
    ])
  })

  it('takes a single Feature or a bare geometry', () => {
    expect(ok(importSiteFile('f.json', encode(JSON.stringify(feature({ type: 'Point', coordinates: [1, 2] }, 'P'))))).report.imported).toHaveLength(1)
    const bare = ok(importSiteFile('g.json', encode(JSON.stringify({ type: 'LineString', coordinates: [[1, 2], [3, 4]] }))))
    expect(bare.collection.features).toEqual([{ type: 'Feature', geometry: { type: 'LineString', coordinates: [[1, 2], [3, 4]] }, properties: {} }])
  })

  it('refuses broken JSON with its line, non-GeoJSON, and projected coordinates', () => {
    const broken = refused(importSiteFile('b.geojson', encode('{\n  "type": "FeatureCollection",\n  "features": [,]\n}')))
    expect(broken).toMatchObject({ code: 'malformed-json', line: 3, column: 16 })
    expect(broken.message).toMatch(/^The file is not valid JSON \(line 3, column 16\): Unexpected token ','/)
    expect(refused(importSiteFile('a.json', encode('[1, 2]'))).code).toBe('not-geojson')
    expect(refused(importSiteFile('t.json', encode('{"type": "Topology"}'))).message).toMatch(/its type is "Topology"/)
    const grid = { type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::27700' } }, features: [] }
    expect(refused(importSiteFile('osgb.geojson', encode(JSON.stringify(grid))))).toMatchObject({ code: 'unsupported-crs', message: expect.stringMatching(/EPSG::27700/) })
    const wgs84 = { ...grid, crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:OGC:1.3:CRS84' } } }
    expect(ok(importSiteFile('ok.geojson', encode(JSON.stringify(wgs84)))).report.format).toBe('geojson')
  })

  it('does not recurse without end into nested collections', () => {
    // Built as text: JSON.stringify itself would overflow the stack on this.
    const depth = 100_000
    const nested = `${'{"type":"GeometryCollection","geometries":['.repeat(depth)}{"type":"Point","coordinates":[0,0]}${']}'.repeat(depth)}`
    const deepProperties = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    const text = `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":${nested}},{"type":"Feature","properties":${deepProperties},"geometry":{"type":"Point","coordinates":[0,0]}}]}`
    const result = ok(importSiteFile('deep.json', encode(text)))
    expect(result.report.skipped.map((s) => s.reason)).toEqual(['part 1, part 1, part 1, part 1: geometry collections are nested more than 4 deep', 'its properties are nested more than 32 levels deep'])
  })
})

describe('large and deep files', () => {
  it('stays linear in the number of Placemarks sharing one Folder', () => {
    const placemarks = Array.from({ length: 20_000 }, (_, i) => `<Placemark><name>p${i}</name><Point><coordinates>${(i % 360) - 179.5},${(i % 170) - 85}</coordinates></Point></Placemark>`)
    const started = performance.now()
    const result = importKml(`<Folder><name>Survey</name>${placemarks.join('\n')}</Folder>`)
    expect(performance.now() - started).toBeLessThan(5000)
    expect(result.report.imported).toHaveLength(20_000)
    expect(result.report.imported[19_999]).toEqual({ index: 19_999, name: 'p19999', kind: 'point', folder: 'Survey' })
  })

  it('reads folders nested 50 000 deep without running out of stack, and shortens the path it reports', () => {
    const depth = 50_000
    const text = `<kml>${'<Folder><name>level</name>'.repeat(depth)}${mast}${'</Folder>'.repeat(depth)}</kml>`
    const result = ok(importSiteFile('deep.kml', encode(text)))
    const folder = result.report.imported[0]!.folder!
    expect(folder.length).toBeLessThanOrEqual(244)
    expect(folder).toMatch(/^… \/ level \/ level/)
  })
})

describe('site images', () => {
  it('imports a PNG as an overlay still to be placed', () => {
    const result = ok(importSiteFile('C:\\plans\\floor.png', png(800, 600)))
    expect(result.report).toMatchObject({ format: 'image', imported: [{ name: 'floor.png', kind: 'overlay' }], warnings: ['floor.png (800 × 600 px) has no position yet: place it on the map by two points.'] })
    expect(result.overlays[0]).toMatchObject({ name: 'floor.png', bounds: null, corners: null, image: { kind: 'embedded', mime: 'image/png', width: 800, height: 600 } })
  })

  it('refuses a TIFF with a reason', () => {
    expect(refused(importSiteFile('ortho.tif', new Uint8Array([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8])))).toMatchObject({ code: 'unsupported-format', message: expect.stringMatching(/TIFF/) })
  })
})

describe('never throws', () => {
  // A small deterministic generator, so a failure can be replayed.
  function random(seed: number): () => number {
    let s = seed >>> 0
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0
      return s / 2 ** 32
    }
  }

  it('answers every damaged version of real files with a result', () => {
    const next = random(7)
    const sources = [
      readFileSync(join(fixtures, 'polygon.kml')),
      readFileSync(join(fixtures, 'ground_overlay.kml')),
      Buffer.from(zipSync({ 'doc.kml': encode(kml(groundOverlay('p.png') + mast)), 'p.png': png(3, 3) })),
      Buffer.from(JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } }] })),
    ]
    let outcomes = 0
    for (let round = 0; round < 400; round++) {
      const source = new Uint8Array(sources[round % sources.length]!)
      const bytes = round % 3 === 0 ? source.subarray(0, Math.floor(next() * source.length)) : source.slice()
      if (round % 3 !== 0) for (let k = 0; k < 1 + Math.floor(next() * 8); k++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256)
      const result = importSiteFile(`fuzz-${round}`, bytes)
      expect(typeof result.ok).toBe('boolean')
      if (!result.ok) expect(result.error.code).not.toBe('internal')
      outcomes++
    }
    expect(outcomes).toBe(400)
  })
})

// ---- The pure parts ----

describe('shared/domain/site/import-report', () => {
  it('checks positions', () => {
    expect(positionProblem([10, 50])).toBeNull()
    expect(positionProblem([10, 50, -3.5])).toBeNull()
    expect(positionProblem([-180, -90])).toBeNull()
    expect(positionProblem([10])).toBe('a position needs longitude and latitude, this one has 1 number')
    expect(positionProblem([Number.NaN, 1])).toBe('longitude NaN is not a finite number')
    expect(positionProblem([1, 2, null])).toBe('altitude is null, not a number')
    expect(positionProblem([500000, 180000])).toBe('longitude 500000 is outside −180..180')
    expect(positionProblem('1,2')).toBe('a position must be an array [longitude, latitude]')
  })

  it('classifies geometries', () => {
    const point: Geometry = { type: 'Point', coordinates: [0, 0] }
    const line: Geometry = { type: 'LineString', coordinates: [[0, 0], [1, 1]] }
    expect(classifyGeometry(point)).toBe('point')
    expect(classifyGeometry({ type: 'MultiLineString', coordinates: [[[0, 0], [1, 1]]] })).toBe('line')
    expect(classifyGeometry({ type: 'GeometryCollection', geometries: [line, line] })).toBe('line')
    expect(classifyGeometry({ type: 'GeometryCollection', geometries: [point, line] })).toBe('mixed')
  })

  it('finds crossings, touches, overlaps and spikes, and lets rings touch at a point', () => {
    const square: Position[] = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    expect(findPolygonIntersection([square])).toBeNull()
    // Duplicate consecutive corners are not edges.
    expect(findPolygonIntersection([[[0, 0], [0, 0], [4, 0], [4, 4], [4, 4], [0, 4], [0, 0]]])).toBeNull()
    expect(findPolygonIntersection([[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]])).toMatchObject({ kind: 'crossing', at: [1, 1] })
    expect(findPolygonIntersection([[[0, 0], [4, 0], [4, 4], [2, 0], [0, 4], [0, 0]]])).toMatchObject({ kind: 'touching', at: [2, 0] })
    expect(findPolygonIntersection([[[0, 0], [4, 0], [2, 0], [2, 2], [0, 0]]])).toMatchObject({ kind: 'spike', at: [4, 0] })
    expect(findPolygonIntersection([square, [[0, 1], [0, 3], [1, 2], [0, 1]]])).toMatchObject({ kind: 'overlap' })
    expect(findPolygonIntersection([square, [[0, 2], [1, 1], [1, 3], [0, 2]]])).toBeNull()
  })

  it('checks a survey-sized polygon quickly', () => {
    const n = 20_000
    const ring: Position[] = Array.from({ length: n }, (_, i) => [Math.cos((i / n) * 2 * Math.PI) * 0.01 + 10, Math.sin((i / n) * 2 * Math.PI) * 0.01 + 50])
    ring.push(ring[0]!)
    const started = performance.now()
    expect(checkGeometry({ type: 'Polygon', coordinates: [ring] })).toMatchObject({ ok: true, notes: [] })
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('computes overlay corners', () => {
    expect(latLonBoxCorners({ north: 2, south: 0, east: 2, west: 0, rotation: 0 })).toEqual([[0, 2], [2, 2], [2, 0], [0, 0]])
    const turned = latLonBoxCorners({ north: 2, south: 0, east: 2, west: 0, rotation: 90 })
    // A quarter turn counter-clockwise: the image's top-left corner ends at the box's south-west.
    turned.flat().forEach((v, i) => expect(v).toBeCloseTo([0, 0, 0, 2, 2, 2, 2, 0][i]!, 12))
    expect(latLonQuadCorners([[0, 0], [1, 0], [1, 1], [0, 1]])).toEqual([[0, 1], [1, 1], [1, 0], [0, 0]])
  })

  it('places an image by two points: scaled, turned, never sheared', () => {
    const lat = 60 // cos 60° = 0.5: a degree of longitude is half as long as a degree of latitude
    const north = placeImageByTwoPoints({ width: 100, height: 50 }, { x: 0, y: 50, lon: 10, lat }, { x: 100, y: 50, lon: 10.002, lat })
    if (!north.ok) throw new Error(north.error)
    const expected = [[10, lat + 0.0005], [10.002, lat + 0.0005], [10.002, lat], [10, lat]]
    north.corners.flat().forEach((v, i) => expect(v).toBeCloseTo(expected.flat()[i]!, 10))
    // Pinned the other way round, the image turns half a circle.
    const south = placeImageByTwoPoints({ width: 100, height: 50 }, { x: 0, y: 50, lon: 10.002, lat }, { x: 100, y: 50, lon: 10, lat })
    if (!south.ok) throw new Error(south.error)
    expect(south.corners[0]![1]).toBeCloseTo(lat - 0.0005, 10)
    expect(placeImageByTwoPoints({ width: 10, height: 10 }, { x: 1, y: 1, lon: 0, lat: 0 }, { x: 1, y: 1, lon: 1, lat: 1 })).toEqual({ ok: false, error: 'the two points are the same pixel; pick two points far apart on the image' })
    // 1000 px of image above two pins 10° of longitude apart at 80° N reach past the pole.
    const offMap = placeImageByTwoPoints({ width: 100, height: 1000 }, { x: 0, y: 1000, lon: 0, lat: 80 }, { x: 100, y: 1000, lon: 10, lat: 80 })
    expect(offMap).toMatchObject({ ok: false, error: expect.stringMatching(/^the image would reach off the map \(latitude 97\.\d+ is outside −90\.\.90/) })
  })

  it('summarises a report in one line', () => {
    const result = importKml(`${mast}${mast}<Placemark><name>Fence</name><LineString><coordinates>0,0 1,1</coordinates></LineString></Placemark><Placemark/>`)
    expect(summarizeImport(result.report, result.overlays.length)).toBe('Imported 3 features (2 points, 1 line); skipped 1.')
  })

  it('types its GeoJSON so the collection can be handed on', () => {
    const collection: FeatureCollection = { type: 'FeatureCollection', features: [] as Feature[] }
    expect(collection.features).toEqual([])
  })
})
