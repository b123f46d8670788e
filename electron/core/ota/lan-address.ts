import { networkInterfaces } from 'node:os'

/**
 * The address devices on the plant network use to reach this computer: its first non-internal IPv4.
 * A laptop on site usually has one wired or Wi-Fi address; loopback when it has none, so a download link
 * is at least well-formed and the device's failure says the server was not reachable.
 */
export function lanAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address
  }
  return '127.0.0.1'
}
