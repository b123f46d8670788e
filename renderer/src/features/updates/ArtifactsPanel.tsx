import { memo, useRef, useState, type DragEvent } from 'react'
import type { ArtifactView } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { formatBytes, formatWhen } from '../bench/bench-model'
import { secureBootText, shortSha } from './updates-model'

/**
 * Images in (picked or dropped), each checked by the console and signed with the site's release key;
 * the images kept, with what the manifest says of each.
 */
export function ArtifactsPanel() {
  const artifacts = useConsole((state) => state.updatesArtifacts)
  const known = useConsole((state) => state.updatesArtifactsKnown)
  const loadError = useConsole((state) => state.updatesArtifactsError)
  const imports = useConsole((state) => state.updatesImports)
  const minimumVersion = useConsole((state) => state.updatesMinimumVersion)
  const setMinimumVersion = useConsole((state) => state.setMinimumVersion)
  const importArtifacts = useConsole((state) => state.importArtifacts)
  const input = useRef<HTMLInputElement>(null)
  const [busy, setBusy] = useState(false)
  const [dragging, setDragging] = useState(false)
  const pending = imports.filter((item) => item.state === 'reading' || item.state === 'sending').length

  const importFiles = async (files: File[]) => {
    if (files.length === 0 || busy) return
    setBusy(true)
    try {
      await importArtifacts(files)
    } finally {
      setBusy(false)
      // Picking the same file again (after fixing it) must fire a change.
      if (input.current) input.current.value = ''
    }
  }

  const onDragOver = (event: DragEvent<HTMLElement>) => {
    if (!event.dataTransfer.types.includes('Files')) return
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
    setDragging(true)
  }
  const onDrop = (event: DragEvent<HTMLElement>) => {
    event.preventDefault()
    setDragging(false)
    void importFiles([...event.dataTransfer.files])
  }

  return (
    <section className="updates-panel updates-artifacts" aria-labelledby="updates-artifacts-title">
      <h3 id="updates-artifacts-title">Images</h3>
      <div
        className={`updates-drop${dragging ? ' dragging' : ''}`}
        onDragOver={onDragOver}
        onDragEnter={onDragOver}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="artifact-drop"
      >
        <label className="updates-field updates-file-pick">
          Import an application image <span className="hint">the app .bin of an ESP-IDF build (build/&lt;project&gt;.bin), picked here or dropped on this box</span>
          <input
            ref={input}
            className="visually-hidden"
            type="file"
            accept=".bin,application/octet-stream"
            multiple
            disabled={busy}
            onChange={(event) => void importFiles([...(event.target.files ?? [])])}
            data-testid="artifact-upload"
          />
          {/* The browser's own "No file chosen" says nothing useful in a narrow column; the list below says what happened. */}
          <span className="updates-file-button" aria-hidden="true">
            {busy ? 'Importing…' : 'Choose image files…'}
          </span>
        </label>
        <label className="updates-field updates-field-inline">
          Refuse images older than <span className="hint">optional: a downgrade below this version is not imported</span>
          <input value={minimumVersion} onChange={(event) => setMinimumVersion(event.target.value)} placeholder="e.g. 1.4.0" maxLength={64} spellCheck={false} data-testid="artifact-minimum-version" />
        </label>
      </div>
      {imports.length > 0 && (
        <ul className="updates-imports" aria-label="Images of the last import" aria-busy={pending > 0}>
          {imports.map((item) => (
            <li key={item.id} className={`updates-import import-${item.state}`} data-testid="artifact-import" data-file-name={item.fileName} data-state={item.state}>
              <span className="updates-import-name">{item.fileName}</span>{' '}
              {item.state === 'reading' ? (
                <span className="muted">reading {formatBytes(item.size)}…</span>
              ) : item.state === 'sending' ? (
                <span className="muted">checking and signing…</span>
              ) : item.state === 'kept' ? (
                <span className="updates-ok">kept and signed: version {item.artifact?.version}</span>
              ) : (
                <span className="error" role="alert" data-testid="artifact-error">
                  Not imported, nothing was kept: {item.error}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      {loadError && (
        <p className="error updates-message" role="alert">
          The kept images could not be listed: {loadError}
        </p>
      )}
      {artifacts.length === 0 ? (
        known && <p className="muted">No images yet. Import the application image of a build; the console checks it (chip, checksum, SHA-256, Secure Boot signatures) and signs its manifest with the site&apos;s release key.</p>
      ) : (
        <ul className="updates-artifact-list" aria-label="Kept images">
          {artifacts.map((artifact) => (
            <ArtifactRow key={artifact.sha256} artifact={artifact} />
          ))}
        </ul>
      )}
    </section>
  )
}

const ArtifactRow = memo(function ArtifactRow(props: { artifact: ArtifactView }) {
  const { artifact } = props
  const newRollout = useConsole((state) => state.newRollout)
  const secureBoot = artifact.secureBootBlocks.length > 0
  return (
    <li className="updates-artifact" data-testid="artifact-row" data-sha256={artifact.sha256} data-version={artifact.version} data-file-name={artifact.fileName}>
      <div className="updates-artifact-line">
        <strong className="updates-artifact-version">{artifact.version}</strong>
        <button type="button" className="updates-link-button" onClick={() => newRollout(artifact.sha256)} aria-label={`New rollout of ${artifact.version}`} data-testid="artifact-new-rollout">
          Roll out…
        </button>
      </div>
      <span className="updates-artifact-file" title={artifact.fileName}>
        {artifact.fileName}
      </span>
      <dl className="updates-facts">
        <div>
          <dt>Project</dt>
          <dd>{artifact.project}</dd>
        </div>
        <div>
          <dt>Chip</dt>
          <dd>{artifact.chip}</dd>
        </div>
        <div>
          <dt>ESP-IDF</dt>
          <dd>{artifact.idf}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>{formatBytes(artifact.size)}</dd>
        </div>
        <div>
          <dt>SHA-256</dt>
          <dd className="mono" title={artifact.sha256}>
            {shortSha(artifact.sha256)}
          </dd>
        </div>
      </dl>
      <p className="updates-signed" data-testid="artifact-signed">
        <span className="updates-ok">Signed</span> by release key{' '}
        <span className="mono" title={artifact.keyId}>
          {shortSha(artifact.keyId)}
        </span>{' '}
        on {formatWhen(artifact.signedAt)}
      </p>
      <p className={`updates-secure-boot${secureBoot ? ' verified' : ''}`} data-testid="artifact-secure-boot" data-verified={secureBoot}>
        {secureBootText(artifact)}
      </p>
      <p className="hint">
        Imported by {artifact.operator} on {formatWhen(artifact.importedAt)}
      </p>
    </li>
  )
})
