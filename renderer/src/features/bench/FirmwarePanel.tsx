import { useRef, useState } from 'react'
import { useConsole } from '../../state/store'
import { formatBytes, formatWhen } from './bench-model'

/** Firmware files in, each read by the console and kept by its SHA-256; the list of kept files. */
export function FirmwarePanel() {
  const firmware = useConsole((state) => state.benchFirmware)
  const loadError = useConsole((state) => state.benchFirmwareError)
  const imports = useConsole((state) => state.benchImports)
  const importFirmware = useConsole((state) => state.importFirmware)
  const input = useRef<HTMLInputElement>(null)
  const [busy, setBusy] = useState(false)
  const pending = imports.filter((item) => item.state === 'reading' || item.state === 'sending').length

  const onFiles = async (files: FileList | null) => {
    if (!files || files.length === 0) return
    setBusy(true)
    try {
      await importFirmware([...files])
    } finally {
      setBusy(false)
      // Picking the same file again (after fixing it) must fire a change.
      if (input.current) input.current.value = ''
    }
  }

  return (
    <section className="bench-panel bench-firmware" aria-labelledby="bench-firmware-title">
      <h3 id="bench-firmware-title">Firmware</h3>
      <label className="bench-field">
        Import firmware files{' '}
        <span className="hint">ESP-IDF build output: bootloader.bin, partition-table.bin, ota_data_initial.bin, your app .bin, an NVS image</span>
        <input ref={input} type="file" multiple onChange={(event) => void onFiles(event.target.files)} disabled={busy} data-testid="firmware-upload" />
      </label>
      {imports.length > 0 && (
        <ul className="bench-imports" aria-label="Files of the last import" aria-busy={pending > 0}>
          {imports.map((item) => (
            <li key={item.id} className={`import-${item.state}`} data-testid="firmware-import" data-file-name={item.fileName} data-state={item.state}>
              <span className="bench-import-name">{item.fileName}</span>{' '}
              {item.state === 'reading' ? (
                <span className="muted">reading {formatBytes(item.size)}…</span>
              ) : item.state === 'sending' ? (
                <span className="muted">checking…</span>
              ) : item.state === 'kept' ? (
                <span className="ok">kept: {item.summary}</span>
              ) : (
                <span className="error" role="alert" data-testid="firmware-error">
                  {item.error}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <h4 className="bench-subhead">Kept files</h4>
      {loadError && (
        <p className="error bench-message" role="alert">
          The kept files could not be listed: {loadError}
        </p>
      )}
      {firmware.length === 0 ? (
        !loadError && <p className="muted">None yet. Import the files of a build above; the console reads each one and says what it is.</p>
      ) : (
        <ul className="bench-firmware-list" aria-label="Kept firmware files">
          {firmware.map((file) => (
            <li key={file.sha256} data-testid="firmware-row" data-sha256={file.sha256} data-file-name={file.fileName}>
              <div className="bench-firmware-line">
                <strong className="bench-firmware-name">{file.fileName}</strong>
                <span className="hint bench-firmware-size">{formatBytes(file.size)}</span>
              </div>
              <div className="bench-firmware-summary">{file.summary}</div>
              <div className="hint">
                <span className="mono" title={`SHA-256 ${file.sha256}`}>
                  SHA-256 {file.sha256.slice(0, 16)}…
                </span>{' '}
                · imported {formatWhen(file.importedAt)}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
