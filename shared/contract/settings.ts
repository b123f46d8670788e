import { z } from 'zod'

// Operator-editable settings. Every field has a default, so a fresh data folder (or one whose
// settings were written by an older version) always yields a complete, valid object.
export const settingsSchema = z.object({
  theme: z.enum(['dark', 'light']).default('dark'),
  siteName: z.string().trim().max(120).default(''),
  operatorName: z.string().trim().max(64).default(''),
  /** How often coalesced state diffs are pushed to screens. More is smoother, less is lighter. */
  pushRateHz: z.number().int().min(1).max(10).default(4),
  /** Headless host sessions expire after this many hours without a new login. */
  sessionHours: z.number().min(0.25).max(72).default(12),
})

export type Settings = z.output<typeof settingsSchema>

export const settingsPatchSchema = settingsSchema
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'Name at least one setting to change.' })

export type SettingsPatch = z.input<typeof settingsPatchSchema>

export const defaultSettings: Settings = settingsSchema.parse({})
