import { z } from 'zod'

const filePath = z.string().trim().max(1024)
const tcpPort = z.number().int().min(1).max(65535)

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

  /** The embedded aedes broker, or the site's own broker or cluster. */
  mqttMode: z.enum(['embedded', 'external']),
  /** Embedded broker's plain MQTT port; 127.0.0.1 only unless mqttLan is on. */
  mqttPort: tcpPort,
  /** Also accept devices from the plant network on mqttPort (all interfaces). */
  mqttLan: z.boolean(),
  /** Embedded broker's TLS port for devices with client certificates; 0 is off. */
  mqttTlsPort: z.number().int().min(0).max(65535),
  mqttTlsCertFile: filePath,
  mqttTlsKeyFile: filePath,
  /** CA that signed the devices' client certificates. */
  mqttTlsCaFile: filePath,
  /** External broker, e.g. mqtts://broker.plant.local:8883 or ws://10.0.0.5:8083/mqtt. */
  mqttUrl: z.union([z.literal(''), z.string().trim().max(1024).regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, 'Use a URL such as mqtt://host:1883, mqtts://host:8883 or wss://host/mqtt.')]),
  mqttUsername: z.string().max(256),
  mqttPassword: z.string().max(1024),
  mqttClientCertFile: filePath,
  mqttClientKeyFile: filePath,
  mqttCaFile: filePath,
  /** Sparkplug host id: the console's STATE topic is spBv1.0/STATE/<id>. */
  sparkplugHostId: z.string().trim().min(1).max(64).regex(/^[^+#/\s]+$/, 'A host id has no spaces and none of + # /.'),
  /** A device that sends nothing for this long, without a death, is flagged silent. */
  silentAfterSeconds: z.number().int().min(5).max(86_400),
  /** A virtual fleet started inside the console, so a new user sees a living fleet at once. */
  demoFleet: z.boolean(),
  demoFleetNodes: z.number().int().min(1).max(1000),
  demoFleetDevices: z.number().int().min(0).max(20),
  /** The Sparkplug group the bench writes into each flashed board's identity, and expects it under. */
  benchGroup: z.string().trim().min(1).max(64).regex(/^[^+#/\s]+$/, 'A Sparkplug group id has no spaces and none of + # /.'),
}

// Operator-editable settings. Every field has a default, so a fresh data folder (or one whose
// settings were written by an older version) always yields a complete, valid object.
export const settingsSchema = z.object({
  theme: settingsFields.theme.default('dark'),
  siteName: settingsFields.siteName.default(''),
  operatorName: settingsFields.operatorName.default(''),
  pushRateHz: settingsFields.pushRateHz.default(4),
  sessionHours: settingsFields.sessionHours.default(12),
  mqttMode: settingsFields.mqttMode.default('embedded'),
  mqttPort: settingsFields.mqttPort.default(1883),
  mqttLan: settingsFields.mqttLan.default(false),
  mqttTlsPort: settingsFields.mqttTlsPort.default(0),
  mqttTlsCertFile: settingsFields.mqttTlsCertFile.default(''),
  mqttTlsKeyFile: settingsFields.mqttTlsKeyFile.default(''),
  mqttTlsCaFile: settingsFields.mqttTlsCaFile.default(''),
  mqttUrl: settingsFields.mqttUrl.default(''),
  mqttUsername: settingsFields.mqttUsername.default(''),
  mqttPassword: settingsFields.mqttPassword.default(''),
  mqttClientCertFile: settingsFields.mqttClientCertFile.default(''),
  mqttClientKeyFile: settingsFields.mqttClientKeyFile.default(''),
  mqttCaFile: settingsFields.mqttCaFile.default(''),
  sparkplugHostId: settingsFields.sparkplugHostId.default('esp-fleet-console'),
  silentAfterSeconds: settingsFields.silentAfterSeconds.default(300),
  demoFleet: settingsFields.demoFleet.default(false),
  demoFleetNodes: settingsFields.demoFleetNodes.default(20),
  demoFleetDevices: settingsFields.demoFleetDevices.default(5),
  benchGroup: settingsFields.benchGroup.default('Plant1'),
})

export type Settings = z.output<typeof settingsSchema>

/** Each setting as the Settings screen names it, for errors an operator can act on. */
export const settingLabels: Record<keyof Settings, string> = {
  theme: 'Theme',
  siteName: 'Site name',
  operatorName: 'Operator name',
  pushRateHz: 'Screen updates per second',
  sessionHours: 'Sign-in lasts (hours)',
  mqttMode: 'Broker',
  mqttPort: 'Embedded broker port',
  mqttLan: 'Accept devices from the plant network',
  mqttTlsPort: 'TLS port',
  mqttTlsCertFile: 'Broker certificate (PEM)',
  mqttTlsKeyFile: 'Broker key (PEM)',
  mqttTlsCaFile: 'Site CA (PEM)',
  mqttUrl: 'External broker URL',
  mqttUsername: 'Broker user name',
  mqttPassword: 'Broker password',
  mqttClientCertFile: 'Client certificate (PEM)',
  mqttClientKeyFile: 'Client key (PEM)',
  mqttCaFile: 'CA of the broker (PEM)',
  sparkplugHostId: 'Sparkplug host id',
  silentAfterSeconds: 'Flag a device silent after (seconds)',
  demoFleet: 'Run the demo fleet',
  demoFleetNodes: 'Demo edge nodes',
  demoFleetDevices: 'Demo devices per edge node',
  benchGroup: 'Group of boards flashed on the bench',
}

/** Settings that are written but never read back out of the core, nor written to the audit log. */
export const secretSettingKeys = ['mqttPassword'] as const
export type SecretSettingKey = (typeof secretSettingKeys)[number]

/** What screens and scripts see: secrets replaced by whether they are set. */
export type PublicSettings = Omit<Settings, SecretSettingKey> & { secretsSet: Record<SecretSettingKey, boolean> }

export function publicSettings(settings: Settings): PublicSettings {
  const visible: Record<string, unknown> = { ...settings }
  const secretsSet = {} as Record<SecretSettingKey, boolean>
  for (const key of secretSettingKeys) {
    secretsSet[key] = settings[key] !== ''
    delete visible[key]
  }
  return { ...(visible as Omit<Settings, SecretSettingKey>), secretsSet }
}

export const settingsPatchSchema = z
  .object(settingsFields)
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'Name at least one setting to change.' })

export type SettingsPatch = z.input<typeof settingsPatchSchema>

export const defaultSettings: Settings = settingsSchema.parse({})
