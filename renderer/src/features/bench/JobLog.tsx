import { useConsole } from '../../state/store'
import { formatOffset, formatWhen } from './bench-model'
import { JobStateBadge } from './JobsPanel'

/** Every flash job the console logged, newest first: who, when, which board, what went onto it. */
export function JobLog() {
  const log = useConsole((state) => state.benchJobLog)
  const setOpen = useConsole((state) => state.setJobLogOpen)
  const reload = useConsole((state) => state.loadJobLog)

  return (
    <details className="bench-panel bench-log" open={log.open} onToggle={(event) => setOpen(event.currentTarget.open)} data-testid="job-log">
      <summary>
        <h3>Job log</h3>
        <span className="hint">who flashed which board, when, with which images — newest first</span>
      </summary>
      {log.open && (
        <>
          <div className="button-row bench-log-actions">
            <button type="button" onClick={() => void reload()}>
              Refresh
            </button>
          </div>
          {log.error && (
            <p className="error bench-message" role="alert">
              The job log could not be read: {log.error}
            </p>
          )}
          {log.rows === null ? (
            !log.error && <p className="muted">Reading the log…</p>
          ) : log.rows.length === 0 ? (
            <p className="muted">No jobs logged yet.</p>
          ) : (
            <div className="bench-table-wrap bench-log-table">
              <table className="bench-table">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Board</th>
                    <th scope="col">Port</th>
                    <th scope="col">Recipe · batch</th>
                    <th scope="col">Chip · MAC</th>
                    <th scope="col">Result</th>
                    <th scope="col">Images (offset, MD5)</th>
                  </tr>
                </thead>
                <tbody>
                  {log.rows.map((job) => (
                    <tr key={job.id} data-testid="job-log-row" data-state={job.state}>
                      <td className="hint">{formatWhen(job.finishedAt ?? job.startedAt)}</td>
                      <td>{job.operator}</td>
                      <th scope="row">{job.serial}</th>
                      <td className="mono">{job.port}</td>
                      <td>
                        {job.recipe} <span className="muted">· {job.batchId}</span>
                      </td>
                      <td>
                        {job.chip ?? '—'}
                        {job.mac && <div className="mono hint">{job.mac}</div>}
                      </td>
                      <td>
                        <JobStateBadge state={job.state} />
                        {job.error && <div className="hint">{job.error.code}</div>}
                      </td>
                      <td>
                        {job.regions.length === 0 ? (
                          <span className="muted">—</span>
                        ) : (
                          <ul className="bench-log-regions">
                            {job.regions.map((region) => (
                              <li key={`${region.offset}-${region.sha256}`} title={`SHA-256 ${region.sha256}`}>
                                {region.fileName} <span className="mono muted">{formatOffset(region.offset)}</span> <span className="mono hint">{region.md5}</span>
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </details>
  )
}
