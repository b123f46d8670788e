import { useConsole } from '../../state/store'
import { formatDays, formatEuros, formatWatts } from './plan-model'
import { plural } from './site-model'

/** The bill of materials and every device the plan places, as the installer will fit them; a device chosen here is selected on the map. */
export function PlanDevices() {
  const outputs = useConsole((state) => state.outputs)
  const error = useConsole((state) => state.outputsError)
  const selection = useConsole((state) => state.siteSelection)
  const selectSiteItem = useConsole((state) => state.selectSiteItem)

  return (
    <section className="site-plan-section" aria-labelledby="site-plan-devices-title">
      <h3 id="site-plan-devices-title">Devices & bill of materials</h3>
      {error && (
        <p className="error" role="alert">
          {outputs ? 'These figures may be out of date: ' : 'Not available: '}
          {error}
        </p>
      )}
      {!outputs ? (
        !error && <p className="muted">Worked out from the plan once it is loaded.</p>
      ) : outputs.devices.length === 0 ? (
        <p className="muted" data-testid="site-plan-no-devices">
          No devices placed yet. Run Placement to propose some, or place them on the map.
        </p>
      ) : (
        <>
          <table className="site-plan-table" aria-label="Bill of materials">
            <thead>
              <tr>
                <th scope="col">Part</th>
                <th scope="col" className="numeric">
                  Qty
                </th>
                <th scope="col" className="numeric">
                  Unit
                </th>
                <th scope="col" className="numeric">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {outputs.bom.map((line) => (
                <tr key={line.partNumber} data-testid="site-plan-bom-line" data-part={line.partNumber} data-quantity={line.quantity}>
                  <td>
                    <div>{line.partNumber}</div>
                    <div className="hint">{line.partName}</div>
                  </td>
                  <td className="numeric">{line.quantity}</td>
                  <td className="numeric">{formatEuros(line.unitPriceEur)}</td>
                  <td className="numeric">{formatEuros(line.totalPriceEur)}</td>
                </tr>
              ))}
              <tr className="site-plan-total">
                <th scope="row" colSpan={3}>
                  Total, {plural(outputs.devices.length, 'device')}
                </th>
                <td className="numeric" data-testid="site-plan-bom-total">
                  {formatEuros(outputs.totalPriceEur)}
                </td>
              </tr>
            </tbody>
          </table>

          <h4>Planned devices</h4>
          <ul className="site-plan-list site-plan-devices" aria-label="Planned devices">
            {outputs.devices.map((device) => {
              const current = selection?.collection === 'devices' && selection.id === device.id
              return (
                <li key={device.id} data-testid="site-plan-device" data-id={device.id}>
                  <button type="button" className="site-plan-row-button" onClick={() => selectSiteItem({ collection: 'devices', id: device.id })} aria-current={current ? 'true' : undefined}>
                    <strong>{device.id}</strong> <span>{device.partNumber}</span> <span className="hint">on {device.mountingPointId}</span>
                  </button>
                  <div className="hint">
                    {[
                      device.zoneIds.length > 0 ? `in ${device.zoneIds.join(', ')}` : 'outside every zone',
                      device.gatewayId && `via ${device.gatewayId}${device.marginDb !== null ? ` (${device.marginDb.toFixed(1)} dB margin)` : ''}`,
                      device.poeSwitchId && `PoE from ${device.poeSwitchId}`,
                      device.averageW === null ? 'part not in the catalogue' : formatWatts(device.averageW),
                      device.batteryLifeDays !== null && `battery ${formatDays(device.batteryLifeDays)}`,
                    ]
                      .filter(Boolean)
                      .join(' · ')}
                  </div>
                </li>
              )
            })}
          </ul>
        </>
      )}
      {outputs && outputs.problems.length > 0 && (
        <ul className="site-plan-problems-list">
          {outputs.problems.map((problem, n) => (
            <li key={n}>
              {problem}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
