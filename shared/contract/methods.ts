import { z } from 'zod'
import type { MethodName } from './channels'
import type { AuditEntry, Health, Identity } from './model'
import { benchParams, type FirmwareFile, type FlashJobRow, type PortRow, type ReadBackRegion, type Recipe } from './bench'
import { fleetParams, type DeviceDetail, type SeriesPoints } from './fleet'
import { settingLabels, settingsPatchSchema, type PublicSettings } from './settings'
import { otaParams, rolloutId, rolloutRequest, type ArtifactView, type RolloutDetail, type RolloutPreview, type RolloutSummary } from './ota'
import { siteParams, sitePlanParams, type CatalogueView, type SiteCoverageView, type SiteExportFile, type SiteOutputs, type SitePlacementView, type SitePlanView, type SiteVersion } from './site'

interface MethodSpec {
  /** Read-only methods change nothing; the headless host also serves them as `GET /api/<method>`. */
  readOnly: boolean
  params: z.ZodType
  /** Phantom: carries the result type for the compiler, never read at run time. */
  result: unknown
  summary: string
  /** What screens call the params, for error messages (settings keys are not words). */
  labels?: Readonly<Record<string, string>>
}

function returns<T>(): T {
  return undefined as T
}

const none = z.object({}).strict()

export const methods = {
  'system.health': {
    readOnly: true,
    params: none,
    result: returns<Health>(),
    summary: 'Version, host and the state of each service.',
  },
  'session.whoami': {
    readOnly: true,
    params: none,
    result: returns<Identity>(),
    summary: 'Who the console believes is calling, as recorded in the audit log.',
  },
  'settings.get': {
    readOnly: true,
    params: none,
    result: returns<PublicSettings>(),
    summary: 'The current settings.',
  },
  'settings.update': {
    readOnly: false,
    params: settingsPatchSchema,
    result: returns<PublicSettings>(),
    summary: 'Change one or more settings; recorded in the audit log.',
    labels: settingLabels,
  },
  'audit.list': {
    readOnly: true,
    params: z
      .object({
        limit: z.number().int().min(1).max(500).default(100),
        beforeId: z.number().int().positive().optional(),
      })
      .strict(),
    result: returns<AuditEntry[]>(),
    summary: 'Operator actions, newest first.',
  },
  'fleet.device': {
    readOnly: true,
    params: fleetParams.device,
    result: returns<DeviceDetail>(),
    summary: 'One edge node or device: its metrics, birth certificate, lifecycle and protocol errors.',
  },
  'fleet.series': {
    readOnly: true,
    params: fleetParams.series,
    result: returns<SeriesPoints>(),
    summary: 'A metric over time: raw samples, or roll-ups with min and max when the range is long.',
  },
  'fleet.rebirth': {
    readOnly: false,
    params: fleetParams.rebirth,
    result: returns<{ requested: boolean }>(),
    summary: 'Ask an edge node to send its births again (NCMD Node Control/Rebirth); audited.',
  },
  'fleet.write': {
    readOnly: false,
    params: fleetParams.write,
    result: returns<{ sent: boolean }>(),
    summary: 'Write a metric of an edge node (NCMD) or device (DCMD), typed by its birth; audited.',
  },
  'demo.fault': {
    readOnly: false,
    params: fleetParams.demoFault,
    result: returns<{ injected: string }>(),
    summary: 'Make a node of the demo fleet fail (power cut, crash, lost Wi-Fi, hang) or resume; audited.',
  },
  'bench.ports': {
    readOnly: true,
    params: none,
    result: returns<PortRow[]>(),
    summary: 'Serial ports now, with the bridge behind each and what a job found on it.',
  },
  'bench.firmware': {
    readOnly: true,
    params: none,
    result: returns<FirmwareFile[]>(),
    summary: 'Firmware files the console keeps, newest first, with what it read in each.',
  },
  'bench.importFirmware': {
    readOnly: false,
    params: benchParams.importFirmware,
    result: returns<FirmwareFile>(),
    summary: 'Keep a firmware file (app, bootloader, partition table, otadata, NVS) after checking what it is; audited.',
  },
  'bench.recipes': {
    readOnly: true,
    params: none,
    result: returns<Recipe[]>(),
    summary: 'Saved flashing recipes.',
  },
  'bench.saveRecipe': {
    readOnly: false,
    params: benchParams.saveRecipe,
    result: returns<Recipe>(),
    summary: 'Save a flashing recipe (files at offsets, serial-number pattern, baud) after checking it; audited.',
  },
  'bench.deleteRecipe': {
    readOnly: false,
    params: benchParams.deleteRecipe,
    result: returns<{ deleted: boolean }>(),
    summary: 'Delete a saved recipe; audited.',
  },
  'bench.flash': {
    readOnly: false,
    params: benchParams.flash,
    result: returns<{ batchId: number; jobIds: number[] }>(),
    summary: 'Flash a recipe onto boards, one job per port, each with its own identity; audited.',
  },
  'bench.cancel': {
    readOnly: false,
    params: benchParams.cancel,
    result: returns<{ cancelled: boolean }>(),
    summary: 'Stop a flash job; it can be resumed.',
  },
  'bench.resume': {
    readOnly: false,
    params: benchParams.resume,
    result: returns<{ jobIds: number[] }>(),
    summary: 'Run again the jobs of a batch that did not finish (after a sleep, an unplugged board, a cancel).',
  },
  'bench.jobs': {
    readOnly: true,
    params: benchParams.jobs,
    result: returns<FlashJobRow[]>(),
    summary: 'The flash job log, newest first: who, when, which board, chip, MAC, image hashes, result.',
  },
  'bench.readBack': {
    readOnly: false,
    params: benchParams.readBack,
    result: returns<{ regions: ReadBackRegion[] }>(),
    summary: 'Read every region of a finished job back from its board and compare it with what was written.',
  },
  'bench.nextSeq': {
    readOnly: true,
    params: benchParams.nextSeq,
    result: returns<{ firstSeq: number }>(),
    summary: "The first board number a recipe's serial pattern has not given to a board yet.",
  },
  'site.import': {
    readOnly: false,
    params: siteParams.import,
    result: returns<SiteVersion>(),
    summary: 'Import a KML, KMZ, GeoJSON or site image as a new version of the site, with a report of what was kept and why not; audited.',
  },
  'site.current': {
    readOnly: true,
    params: z.object({}).strict(),
    result: returns<SiteVersion | null>(),
    summary: 'The latest imported version of the site, or null before the first import.',
  },
  'site.plan': {
    readOnly: true,
    params: none,
    result: returns<SitePlanView | null>(),
    summary: 'The latest revision of the site plan (built from the latest import when there is none yet), or null before the first import.',
  },
  'site.savePlan': {
    readOnly: false,
    params: sitePlanParams.savePlan,
    result: returns<SitePlanView>(),
    summary: 'Save an edited site model as a new revision; refused when another revision was saved since the one it started from; audited.',
  },
  'site.openPlan': {
    readOnly: false,
    params: sitePlanParams.openPlan,
    result: returns<SitePlanView>(),
    summary: 'Open a saved site plan file as a new revision, refused with the field at fault when it is damaged; audited.',
  },
  'site.catalogue': {
    readOnly: true,
    params: none,
    result: returns<CatalogueView>(),
    summary: 'The parts the planner places: cameras, sensors, gateways, nodes and switches with their figures, power and price.',
  },
  'site.saveCatalogue': {
    readOnly: false,
    params: sitePlanParams.saveCatalogue,
    result: returns<CatalogueView>(),
    summary: "Replace the site's catalogue with an edited one, refused with every problem when a part is incomplete; audited.",
  },
  'site.resetCatalogue': {
    readOnly: false,
    params: none,
    result: returns<CatalogueView>(),
    summary: 'Go back to the built-in catalogue; audited.',
  },
  'site.coverage': {
    readOnly: true,
    params: sitePlanParams.coverage,
    result: returns<SiteCoverageView>(),
    summary: "Coverage of the latest plan: what each cell is seen by, DORI bands, gateways' signal and the blind spots with their area.",
  },
  'site.placement': {
    readOnly: true,
    params: sitePlanParams.placement,
    result: returns<SitePlacementView>(),
    summary: 'How many nodes close the gaps: a greedy cover over the free mounting points with its curve, and the exact optimum when small enough.',
  },
  'site.outputs': {
    readOnly: true,
    params: none,
    result: returns<SiteOutputs>(),
    summary: 'The planned devices with their gateway, power and zone, the bill of materials, network and power budget, all from the latest plan.',
  },
  'site.export': {
    readOnly: true,
    params: sitePlanParams.export,
    result: returns<SiteExportFile>(),
    summary: 'The bill of materials (CSV), topology or coverage diagram (SVG), commissioning report (PDF) or site plan file, from the latest plan.',
  },
  'ota.importArtifact': {
    readOnly: false,
    params: otaParams.importArtifact,
    result: returns<ArtifactView>(),
    summary: "Import an ESP-IDF application image for updates: checked, its Secure Boot v2 blocks verified, and its manifest signed with the site's release key; audited.",
  },
  'ota.artifacts': {
    readOnly: true,
    params: none,
    result: returns<ArtifactView[]>(),
    summary: 'Firmware images kept for updates, newest first, as their signed manifests describe them.',
  },
  'ota.preview': {
    readOnly: true,
    params: rolloutRequest,
    result: returns<RolloutPreview>(),
    summary: 'The plan of a rollout before it starts: every phase with the devices it will touch, in start order, and the devices left out with why.',
  },
  'ota.start': {
    readOnly: false,
    params: rolloutRequest,
    result: returns<RolloutSummary>(),
    summary: 'Start a phased rollout of a verified artifact (pass the preview seed to run the plan that was shown); audited.',
  },
  'ota.pause': {
    readOnly: false,
    params: rolloutId,
    result: returns<RolloutSummary>(),
    summary: 'Pause a rollout: nothing new starts and nothing more is installed; downloads under way stop at downloaded; audited.',
  },
  'ota.resume': {
    readOnly: false,
    params: rolloutId,
    result: returns<RolloutSummary>(),
    summary: 'Resume a paused rollout; over a failed health gate this is an override, recorded as such; audited.',
  },
  'ota.abort': {
    readOnly: false,
    params: rolloutId,
    result: returns<RolloutSummary>(),
    summary: 'Abort a rollout: nothing new starts, downloads are cancelled, nothing is ever installed again; audited.',
  },
  'ota.rollouts': {
    readOnly: true,
    params: none,
    result: returns<RolloutSummary[]>(),
    summary: 'Every rollout, newest first: the live ones and the history.',
  },
  'ota.rollout': {
    readOnly: true,
    params: rolloutId,
    result: returns<RolloutDetail>(),
    summary: 'One rollout with the state of every device, the devices it left out, and its log.',
  },
} as const satisfies { [M in MethodName]: MethodSpec }

export type Methods = typeof methods
export type ParamsIn<M extends MethodName> = z.input<Methods[M]['params']>
export type ParamsOut<M extends MethodName> = z.output<Methods[M]['params']>
export type ResultOf<M extends MethodName> = Methods[M]['result']

export const readOnlyMethods = (Object.keys(methods) as MethodName[]).filter((m) => methods[m].readOnly)
