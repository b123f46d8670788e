/**
 * Only these addresses are reachable from this machine alone; anything else (a LAN address,
 * 0.0.0.0, even another 127.x address that other software may forward) needs authentication.
 */
const loopbackOnly = new Set(['127.0.0.1', '::1', 'localhost'])

export function isLoopbackOnly(address: string): boolean {
  return loopbackOnly.has(address.toLowerCase())
}

export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}
