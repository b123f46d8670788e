import { useConsole } from '../../state/store'
import { formatDays, formatWatts } from './plan-model'
import { plural } from './site-model'

/** A link with less than this over the required margin fades in rain, foliage or a parked lorry. */
const thinMarginDb = 3

/**
 * Which gateway each node talks to and with what margin, which nodes have none and why, how full each
 * gateway is; each PoE switch's budget and ports, battery life, and the power drawn per zone.
 */
export function PlanNetworkPower() {
  const outputs = useConsole((state) => state.outputs)
  const error = useConsole((state) => state.outputsError)
  if (!outputs) {
    return (
      <section className="site-plan-section" aria-labelledby="site-plan-network-title">
        <h3 id="site-plan-network-title">Network & power</h3>
        {error ? (
          <p className="error" role="alert">
            Not available: {error}
          </p>
        ) : (
          <p className="muted">Worked out from the plan once it is loaded.</p>
        )}
      </section>
    )
  }
  const { network, power } = outputs
  const batteries = power.devices.filter((device) => device.batteryLifeDays !== null)

  return (
    <section className="site-plan-section" aria-labelledby="site-plan-network-title">
      <h3 id="site-plan-network-title">Network & power</h3>
      {error && (
        <p className="error" role="alert">
          These figures may be out of date: {error}
        </p>
      )}

      <h4>Radio links</h4>
      {network.links.length === 0 ? (
        <p className="muted">No node is linked to a gateway.</p>
      ) : (
        <table className="site-plan-table" data-testid="site-plan-links">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Gateway</th>
              <th scope="col" className="numeric">
                Margin
              </th>
              <th scope="col" className="numeric">
                Distance
              </th>
            </tr>
          </thead>
          <tbody>
            {network.links.map((link) => (
              <tr key={link.nodeId}>
                <td>{link.nodeId}</td>
                <td>{link.gatewayId}</td>
                <td className={`numeric${link.marginDb < thinMarginDb ? ' attention' : ''}`}>{link.marginDb.toFixed(1)} dB</td>
                <td className="numeric">{Math.round(link.distanceM)} m</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {network.unassigned.length > 0 && (
        <>
          <h4 className="attention">{plural(network.unassigned.length, 'node')} without a gateway</h4>
          <ul className="site-plan-list">
            {network.unassigned.map((node) => (
              <li key={node.nodeId} data-testid="site-plan-unassigned">
                <strong>{node.nodeId}</strong> <span>{node.reason}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {network.gateways.length > 0 && (
        <>
          <h4>Gateways</h4>
          <ul className="site-plan-list">
            {network.gateways.map((gateway) => (
              <li key={gateway.gatewayId}>
                <strong>{gateway.gatewayId}</strong> {gateway.capacity === null ? plural(gateway.load, 'node') : `${gateway.load} of ${gateway.capacity} nodes`}
              </li>
            ))}
          </ul>
        </>
      )}
      {network.wired.length > 0 && <p className="hint">By cable (PoE): {network.wired.join(', ')}.</p>}

      <h4>PoE switches</h4>
      {power.switches.length === 0 ? (
        <p className="muted">No switch placed.</p>
      ) : (
        <ul className="site-plan-list">
          {power.switches.map((load) => (
            <li key={load.switchId} data-testid="site-plan-switch" data-over={load.overBudget || load.overPorts}>
              <strong>{load.switchId}</strong> ({load.partNumber}): {formatWatts(load.loadW)} of {formatWatts(load.budgetW)}, {load.portsUsed} of {load.ports} ports
              {load.overBudget && (
                <span className="error" role="alert">
                  {' '}
                  Over budget by {formatWatts(-load.headroomW)}: move devices to another switch or choose a larger one.
                </span>
              )}
              {load.overPorts && (
                <span className="error" role="alert">
                  {' '}
                  {load.portsUsed - load.ports} more devices than ports.
                </span>
              )}
            </li>
          ))}
        </ul>
      )}

      {batteries.length > 0 && (
        <>
          <h4>Battery life</h4>
          <table className="site-plan-table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col" className="numeric">
                  Average
                </th>
                <th scope="col" className="numeric">
                  Life
                </th>
              </tr>
            </thead>
            <tbody>
              {batteries.map((device) => (
                <tr key={device.deviceId}>
                  <td>{device.deviceId}</td>
                  <td className="numeric">{formatWatts(device.averageW)}</td>
                  <td className="numeric">{formatDays(device.batteryLifeDays)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}

      <h4>Power by zone</h4>
      <table className="site-plan-table" data-testid="site-plan-zone-power">
        <thead>
          <tr>
            <th scope="col">Zone</th>
            <th scope="col" className="numeric">
              Mains
            </th>
            <th scope="col" className="numeric">
              PoE
            </th>
            <th scope="col" className="numeric">
              Battery
            </th>
            <th scope="col" className="numeric">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {power.zones.map((zone) => (
            <tr key={zone.zoneId}>
              <th scope="row">{zone.name}</th>
              <td className="numeric">{formatWatts(zone.mainsW)}</td>
              <td className="numeric">{formatWatts(zone.poeW)}</td>
              <td className="numeric">{formatWatts(zone.batteryW)}</td>
              <td className="numeric">{formatWatts(zone.averageW)}</td>
            </tr>
          ))}
          <tr className="site-plan-total">
            <th scope="row">Whole site</th>
            <td className="numeric">{formatWatts(power.site.mainsW)}</td>
            <td className="numeric">{formatWatts(power.site.poeW)}</td>
            <td className="numeric">{formatWatts(power.site.batteryW)}</td>
            <td className="numeric">{formatWatts(power.site.averageW)}</td>
          </tr>
        </tbody>
      </table>
      {power.problems.length > 0 && (
        <ul className="site-plan-problems-list">
          {power.problems.map((problem, n) => (
            <li key={n}>
              {problem}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
