/** ESP-IDF `esp_reset_reason_t` names, as `esp_reset_reason()` reports them after boot (Diagnostics/Reboot Reason). */
export const resetReasons = [
  'ESP_RST_UNKNOWN',
  'ESP_RST_POWERON',
  'ESP_RST_EXT',
  'ESP_RST_SW',
  'ESP_RST_PANIC',
  'ESP_RST_INT_WDT',
  'ESP_RST_TASK_WDT',
  'ESP_RST_WDT',
  'ESP_RST_DEEPSLEEP',
  'ESP_RST_BROWNOUT',
  'ESP_RST_SDIO',
] as const
export type ResetReason = (typeof resetReasons)[number]

/** Resets that go through the panic handler, which writes a core dump to flash when one is configured. */
export const crashResetReasons = ['ESP_RST_PANIC', 'ESP_RST_INT_WDT', 'ESP_RST_TASK_WDT'] as const satisfies readonly ResetReason[]
export type CrashResetReason = (typeof crashResetReasons)[number]

/** A reset the firmware did not ask for and the power did not cause: what an update's health gate counts as a crash. */
export function isCrashReset(reason: string): boolean {
  return (crashResetReasons as readonly string[]).includes(reason)
}
