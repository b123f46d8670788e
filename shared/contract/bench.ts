import { z } from 'zod'

/** A serial port as the Bench screen lists it, keyed by its path. */
export interface PortRow {
  path: string
  /** What is behind it: the USB bridge by its VID:PID, or "serial port". */
  name: string
  usb: { vendorId: string; productId: string; serialNumber: string | null; manufacturer: string | null } | null
  /** Said when a board behind it never answers. */
  syncHint: string
  /** Set once a job has talked to the board. */
  probed: { chip: string; mac: string; flashSize: number | null } | null
  /** The job using the port, if any. */
  jobId: number | null
}

export type FlashJobState = 'queued' | 'connecting' | 'writing' | 'verifying' | 'resetting' | 'done' | 'failed' | 'cancelled'

export interface FlashedRegion {
  fileName: string
  offset: number
  size: number
  sha256: string
  md5: string
}

/** One board being (or having been) flashed, keyed by its id. */
export interface FlashJobRow {
  id: number
  batchId: number
  port: string
  recipe: string
  /** The identity this board gets (from the batch's serial-number pattern). */
  serial: string
  state: FlashJobState
  /** What is happening, in words: "Writing app.bin (2 of 4)". */
  phase: string
  written: number
  total: number
  bytesPerSecond: number | null
  secondsLeft: number | null
  chip: string | null
  mac: string | null
  /** Why it stopped, and what to do. */
  error: { code: string; message: string } | null
  regions: FlashedRegion[]
  startedAt: number | null
  finishedAt: number | null
  operator: string
}

export const regionRoles = ['bootloader', 'partition-table', 'otadata', 'app', 'nvs', 'data'] as const

/** A firmware file kept by the console, by content. */
export interface FirmwareFile {
  sha256: string
  fileName: string
  size: number
  importedAt: number
  /** What the console read in it: "ESP32-S3 app hello_world 1.2.0 (IDF v5.2)", "partition table, 6 partitions". */
  summary: string
  /** What the file is, as far as the console can tell: the role it would take in a recipe. */
  kind: FirmwareKind
  /** The chip an app or bootloader image is built for. */
  chip: string | null
}

export type FirmwareKind = (typeof regionRoles)[number] | 'damaged'

export interface Recipe {
  name: string
  regions: { role: (typeof regionRoles)[number]; offset: number; sha256: string; fileName: string }[]
  /** `{seq}` or `{seq:4}` becomes each board's number in its batch. */
  serialPattern: string
  baud: number
  updatedAt: number
}

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'A file is named by its SHA-256 (64 hex digits).')
const recipeName = z.string().trim().min(1, 'Give the recipe a name.').max(80)
const baud = z.number().int().refine((value) => [115200, 230400, 460800, 921600, 1500000, 2000000].includes(value), 'Choose 115200, 230400, 460800, 921600, 1500000 or 2000000 baud.')

export const benchParams = {
  importFirmware: z
    .object({
      fileName: z.string().trim().min(1).max(200),
      /** The file's bytes, base64. */
      data: z.string().max(24 * 1024 * 1024, 'Firmware files over 16 MB are not ESP32 flash images.'),
    })
    .strict(),
  saveRecipe: z
    .object({
      name: recipeName,
      regions: z
        .array(
          z
            .object({
              role: z.enum(regionRoles),
              offset: z.number().int().min(0).max(0x10000000),
              sha256,
            })
            .strict(),
        )
        .min(1, 'A recipe needs at least one file.')
        .max(16),
      serialPattern: z.string().trim().min(1).max(40).default('NODE-{seq:4}'),
      baud: baud.default(921600),
    })
    .strict(),
  deleteRecipe: z.object({ name: recipeName }).strict(),
  flash: z
    .object({
      recipe: recipeName,
      ports: z.array(z.string().min(1).max(300)).min(1, 'Pick at least one port.').max(32),
      /** The first board's number in `{seq}`; the next boards count up. */
      firstSeq: z.number().int().min(0).max(99_999_999).default(1),
      /** Each board's id, in port order, when the boards are the site plan's nodes; without, the recipe's pattern names them. */
      serials: z.array(z.string().min(1).max(64)).max(32).optional(),
    })
    .strict(),
  cancel: z.object({ jobId: z.number().int().positive() }).strict(),
  resume: z.object({ batchId: z.number().int().positive() }).strict(),
  jobs: z.object({ limit: z.number().int().min(1).max(500).default(100) }).strict(),
  readBack: z.object({ jobId: z.number().int().positive() }).strict(),
  nextSeq: z.object({ recipe: recipeName }).strict(),
}

/** A region of a finished job read back from the board and compared with what was written. */
export interface ReadBackRegion {
  fileName: string
  offset: number
  size: number
  /** SHA-256 of what the board holds now. */
  sha256: string
  matches: boolean
}
