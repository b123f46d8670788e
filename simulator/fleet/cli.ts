// `npm run simulate`: a virtual fleet on a broker until Ctrl-C, with a one-line status every few seconds.
import { startVirtualFleet, type FleetCounters, type VirtualFleet } from './fleet'
import { parseFleetArgs, usage, UsageError, type CliOptions } from './cli-options'

async function main(): Promise<number> {
  let options: CliOptions
  try {
    options = parseFleetArgs(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`simulate: ${error.message}\nTry --help.\n`)
    return 2
  }
  if (options.help) {
    process.stdout.write(usage)
    return 0
  }

  const { fleet: fleetOptions } = options
  const startedAt = Date.now()
  process.stdout.write(
    `simulate: ${fleetOptions.nodes} nodes × ${fleetOptions.devicesPerNode} devices, group ${fleetOptions.groupId}, ` +
      `${fleetOptions.burst ? `burst (max ${fleetOptions.burst === true ? 64 : fleetOptions.burst.maxInFlight} in flight)` : `${fleetOptions.rateHz} Hz`}, seed ${fleetOptions.seed}, broker ${fleetOptions.brokerUrl}\n`,
  )
  let fleet: VirtualFleet
  try {
    fleet = await startVirtualFleet({
      ...fleetOptions,
      ...(options.verbose ? { onEvent: (event) => process.stdout.write(`  ${event.edgeNodeId} ${event.kind}${event.detail ? ` ${event.detail}` : ''}\n`) } : {}),
    })
  } catch (error) {
    process.stderr.write(`simulate: ${(error as Error).message}\n`)
    return 1
  }

  let previous = fleet.counters()
  let previousAt = Date.now()
  const status = setInterval(() => {
    const now = Date.now()
    const current = fleet.counters()
    process.stdout.write(`${statusLine(current, previous, (now - previousAt) / 1000, (now - startedAt) / 1000)}\n`)
    previous = current
    previousAt = now
  }, options.statusS * 1000)

  const finished = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
    if (options.durationS !== null) setTimeout(() => resolve(`${options.durationS} s elapsed`), options.durationS * 1000)
  })
  const why = await finished
  clearInterval(status)
  // A second signal means the operator does not want to wait for the NDEATHs.
  const force = () => process.exit(130)
  process.once('SIGINT', force)
  process.once('SIGTERM', force)
  process.stdout.write(`simulate: ${why}, publishing NDEATH and disconnecting…\n`)
  const end = Date.now()
  const totals = fleet.counters()
  await fleet.stop()
  process.stdout.write(`${statusLine(totals, { ...totals, DDATA: 0, NDATA: 0, metrics: 0 }, (end - startedAt) / 1000, (end - startedAt) / 1000)} (whole run)\n`)
  return 0
}

function statusLine(now: FleetCounters, before: FleetCounters, seconds: number, elapsedS: number): string {
  const rate = (key: 'DDATA' | 'NDATA' | 'metrics') => Math.round((now[key] - before[key]) / Math.max(seconds, 0.001))
  return (
    `[${elapsedS.toFixed(0).padStart(5)} s] online ${now.online}/${now.nodes} · DDATA ${rate('DDATA')}/s · NDATA ${rate('NDATA')}/s · ` +
    `metrics ${rate('metrics')}/s · births ${now.NBIRTH}N+${now.DBIRTH}D · ${(now.bytes / 1e6).toFixed(1)} MB · ` +
    `drops ${now.drops} reboots ${now.reboots} (crashes ${now.crashes}) gaps ${now.gaps} reorders ${now.reorders} malformed ${now.malformed} silences ${now.silences} · ` +
    `rebirths ${now.rebirths} cmds ${now.commands} · rss ${Math.round(process.memoryUsage.rss() / 1e6)} MB`
  )
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`simulate: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
