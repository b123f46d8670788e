import { EmptyState } from '../../shell/EmptyState'

export function BenchSection() {
  return (
    <EmptyState
      title="Bench"
      holds="Boards plugged into this computer over USB serial, each flashed, verified and given its own identity: one progress bar per port, with chip, MAC and the result of every job."
      status="Bench flashing is not in this version yet."
      start={<p>You will plug ESP32 boards in, pick a flashing recipe or a firmware image, and start. The same flasher will run from a shell with <code>npm run flash</code>.</p>}
    />
  )
}
