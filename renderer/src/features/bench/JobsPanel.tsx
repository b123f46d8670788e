import { memo, useMemo, useState } from 'react'
import type { FlashJobRow, FlashJobState } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import type { BenchOutcome } from './bench-slice'
import {
  batchesOf,
  batchSummary,
  canResume,
  formatBytes,
  formatOffset,
  formatSecondsLeft,
  formatSpeed,
  formatTransfer,
  isJobActive,
  jobStateLabels,
  progressOf,
  sortedJobs,
  type BatchView,
} from './bench-model'

/** One row per board of this session's batches (and unfinished ones), live from the core. */
export function JobsPanel() {
  const jobs = useConsole((state) => state.benchJobs)
  const batches = useMemo(() => batchesOf(sortedJobs(jobs)), [jobs])

  return (
    <section className="bench-panel bench-jobs" aria-labelledby="bench-jobs-title">
      <h3 id="bench-jobs-title">Jobs</h3>
      {batches.length === 0 ? (
        <p className="muted">No flash jobs yet. Each board gets a row here when you press Flash: progress, speed, and at the end its chip, MAC and the MD5 of every region written.</p>
      ) : (
        batches.map((batch) => <BatchView key={batch.batchId} batch={batch} />)
      )}
    </section>
  )
}

function BatchView(props: { batch: BatchView }) {
  const { batch } = props
  const resumable = canResume(batch)
  return (
    <section className="bench-batch" aria-labelledby={`bench-batch-${batch.batchId}`} data-testid="flash-batch" data-batch={batch.batchId}>
      <h4 id={`bench-batch-${batch.batchId}`} className="bench-batch-head">
        Batch {batch.batchId} <span className="muted">· {batch.recipe} ·</span> <span className="bench-batch-counts">{batchSummary(batch)}</span>
      </h4>
      <ol className="bench-job-list">
        {batch.jobs.map((job) => (
          <JobRowView key={job.id} job={job} resumable={resumable} />
        ))}
      </ol>
    </section>
  )
}

const JobRowView = memo(function JobRowView(props: { job: FlashJobRow; resumable: boolean }) {
  const { job } = props
  const cancel = useConsole((state) => state.cancelFlashJob)
  const resume = useConsole((state) => state.resumeBatch)
  const readBack = useConsole((state) => state.readBack)
  const [outcome, setOutcome] = useState<BenchOutcome | null>(null)
  const [asking, setAsking] = useState(false)
  const active = isJobActive(job.state)
  const stopped = job.state === 'failed' || job.state === 'cancelled'
  const { value, max } = progressOf(job)

  const run = async (action: () => Promise<BenchOutcome>) => {
    setAsking(true)
    setOutcome(null)
    try {
      setOutcome(await action())
    } finally {
      setAsking(false)
    }
  }

  return (
    <li className={`bench-job job-${job.state}`} data-testid="flash-job" data-job-id={job.id} data-port={job.port} data-state={job.state} data-serial={job.serial}>
      <div className="bench-job-main">
        <div className="bench-job-who">
          <strong className="bench-serial">{job.serial}</strong>
          <span className="hint mono bench-ellipsis" title={job.port}>
            {job.port}
          </span>
        </div>
        <div className="bench-job-progress">
          <progress value={value} max={max} aria-label={`${job.serial} on ${job.port}`} data-testid="flash-progress" />
          <div className="bench-job-numbers">
            <span>{formatTransfer(job)}</span>
            <span>{active ? formatSpeed(job.bytesPerSecond) : ''}</span>
            <span>{active ? formatSecondsLeft(job.secondsLeft) : ''}</span>
          </div>
        </div>
        <JobStateBadge state={job.state} />
        <div className="bench-job-actions">
          {active && (
            <button type="button" onClick={() => void run(() => cancel(job.id))} disabled={asking} data-testid="flash-cancel">
              Cancel
            </button>
          )}
          {job.state === 'done' && (
            <button type="button" onClick={() => void run(() => readBack(job.id))} disabled={asking} title="Read every region back from the board and compare it with what was written" data-testid="flash-read-back">
              {asking ? 'Reading back…' : 'Read back'}
            </button>
          )}
          {stopped && (
            <button
              type="button"
              onClick={() => void run(() => resume(job.batchId))}
              disabled={asking || !props.resumable}
              title={props.resumable ? `Run again what did not finish in batch ${job.batchId}` : 'Resume once the other boards of the batch have stopped'}
              data-testid="batch-resume"
            >
              Resume batch {job.batchId}
            </button>
          )}
        </div>
      </div>
      <p className="bench-job-phase" title={job.phase}>
        {job.phase}
      </p>
      {(job.chip || job.mac) && (
        <dl className="bench-job-facts">
          {job.chip && (
            <div>
              <dt>Chip</dt>
              <dd data-testid="flash-job-chip">{job.chip}</dd>
            </div>
          )}
          {job.mac && (
            <div>
              <dt>MAC</dt>
              <dd className="mono" data-testid="flash-job-mac">
                {job.mac}
              </dd>
            </div>
          )}
          {job.finishedAt !== null && job.startedAt !== null && (
            <div>
              <dt>Took</dt>
              <dd>{Math.max(0, Math.round((job.finishedAt - job.startedAt) / 1000))} s</dd>
            </div>
          )}
        </dl>
      )}
      {job.regions.length > 0 && (
        <ul className="bench-job-regions" aria-label={`Regions written to ${job.serial}`}>
          {job.regions.map((region) => (
            <li key={`${region.offset}-${region.sha256}`} data-testid="flash-job-region" data-md5={region.md5}>
              <span className="bench-region-file">{region.fileName}</span> <span className="mono muted">at {formatOffset(region.offset)}</span> <span className="muted">{formatBytes(region.size)}</span>{' '}
              <span className="ok">MD5 verified</span>
              <span className="mono hint bench-md5" title={`SHA-256 ${region.sha256}`}>
                MD5 {region.md5}
              </span>
            </li>
          ))}
        </ul>
      )}
      {job.error && stopped && (
        <p className={job.state === 'failed' ? 'error bench-job-error' : 'bench-job-error stopped'} role={job.state === 'failed' ? 'alert' : undefined} data-testid="flash-job-error">
          {job.error.message} <span className="mono hint">({job.error.code})</span>
        </p>
      )}
      {outcome && (
        <p className={`bench-message ${outcome.ok ? 'ok' : 'error'}`} role={outcome.ok ? 'status' : 'alert'} data-testid="flash-job-outcome">
          {outcome.text}
        </p>
      )}
    </li>
  )
})

const stateMeanings: Record<FlashJobState, string> = {
  queued: 'Waiting for its turn on the port',
  connecting: 'Resetting the board into its ROM bootloader and syncing',
  writing: 'Writing compressed blocks to flash',
  verifying: 'Comparing the MD5 of each region with what was sent',
  resetting: 'Restarting the board into its application',
  done: 'Written, verified by MD5 and reset',
  failed: 'Stopped; the message says why and what to do',
  cancelled: 'Stopped on request; resume the batch to finish it',
}

export function JobStateBadge(props: { state: FlashJobState }) {
  return (
    <span className={`device-state job-state job-state-${props.state}`} data-testid="flash-job-state" title={stateMeanings[props.state]}>
      <span className="mark" aria-hidden="true" />
      {jobStateLabels[props.state]}
    </span>
  )
}
