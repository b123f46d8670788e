import { z } from 'zod'

// The fields without defaults: a patch names only what it changes. (Zod 4 applies a field's
// .default() even under .partial(), so a patch built from settingsSchema would reset every
// setting it did not name.)
const settingsFields = {
  theme: z.enum(['dark', 'light']),
  siteName: z.string().trim().max(120),
  operatorName: z.string().trim().max(64),
  /** How often coalesced state diffs are pushed to screens. More is smoother, less is lighter. */
  pushRateHz: z.number().int().min(1).max(10),
  /** Headless host sessions expire after this many hours without a new login. */
  sessionHours: z.number().min(0.25).max(72),
}

// Operator-editable settings. Every field has a default, so a fresh data folder (or one whose
// settings were written by an older version) always yields a complete, valid object.
export const settingsSchema = z.object({
  theme: settingsFields.theme.default('dark'),
  siteName: settingsFields.siteName.default(''),
  operatorName: settingsFields.operatorName.default(''),
  pushRateHz: settingsFields.pushRateHz.default(4),
  sessionHours: settingsFields.sessionHours.default(12),
})

export type Settings = z.output<typeof settingsSchema>

export const settingsPatchSchema = z
  .object(settingsFields)
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'Name at least one setting to change.' })

export type SettingsPatch = z.input<typeof settingsPatchSchema>

export const defaultSettings: Settings = settingsSchema.parse({})
