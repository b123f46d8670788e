import { z } from 'zod'

/** A firmware image the console keeps for updates, as its signed manifest describes it. */
export interface ArtifactView {
  sha256: string
  fileName: string
  version: string
  project: string
  chip: string
  idf: string
  size: number
  importedAt: number
  operator: string
  /** The release key that signed the manifest, and when. */
  keyId: string
  signedAt: number
  /** ESP-IDF Secure Boot v2 blocks the image carries, each verified: empty for an unsigned image. */
  secureBootBlocks: { scheme: string; publicKeyDigest: string }[]
}

export const otaParams = {
  importArtifact: z
    .object({
      fileName: z.string().trim().min(1).max(200),
      /** The image's bytes, base64. */
      data: z.string().max(24 * 1024 * 1024, 'Firmware files over 16 MB are not ESP32 application images.'),
      /** Refuse an image older than this version (a downgrade). */
      minimumVersion: z.string().trim().min(1).max(64).optional(),
    })
    .strict(),
}
