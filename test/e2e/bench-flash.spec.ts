import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulatedBoards, type EmulatedBoards } from '../../simulator/rom-bootloader/pty'
import { expect, screenshotWhole, test } from './host'

// The "done when": a recipe flashed onto two emulated boards from the Bench screen, the flash
// read back from the boards and compared; and a board of the wrong chip stopped with the reason.
const fixtures = join(import.meta.dirname, '../../../shared/fixtures')
const app = join(fixtures, 'esptool/images/esp_idf_blink_esp32s2.bin')
const table = join(fixtures, 'esp-idf/partition_table/expected/partitions_singleapp.bin')

let boards: EmulatedBoards | null = null
let wrongChip: EmulatedBoards | null = null
let dir = ''

test.beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-e2e-'))
  boards = await startEmulatedBoards({ count: 2, chip: 'ESP32-S2', dir, seed: 11 })
  wrongChip = await startEmulatedBoards({ count: 1, chip: 'ESP32-S3', dir, namePrefix: 'ttyS3-', seed: 40 })
})

test.afterEach(async () => {
  await boards?.stop()
  await wrongChip?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

test('flashes a recipe onto two emulated boards from the Bench screen, verified, and refuses the wrong chip with the reason', async ({ page, hosts, pageErrors }) => {
  test.setTimeout(120_000)
  const [first, second] = boards!.boards
  const s3 = wrongChip!.boards[0]!
  const host = await hosts.start({ args: [first!.path, second!.path, s3.path].flatMap((path) => ['--serial-port', path]) })
  await page.goto(`${host.url}#bench`)

  // The three ports appear, named as what they are.
  for (const board of [first!, second!, s3]) await expect(page.locator(`[data-testid=bench-port][data-path="${board.path}"]`)).toBeVisible()

  // Import the files: the console says what each one is.
  await page.getByTestId('firmware-upload').setInputFiles([app, table])
  await expect(page.locator('[data-testid=firmware-row][data-file-name="esp_idf_blink_esp32s2.bin"]')).toContainText('ESP32-S2 app')
  await expect(page.locator('[data-testid=firmware-row][data-file-name="partitions_singleapp.bin"]')).toContainText('partition table, 3 partitions')
  const appSha = sha256(readFileSync(app))
  const tableSha = sha256(readFileSync(table))

  // A recipe: the partition table and the app, each board numbered from the pattern.
  await page.getByTestId('recipe-name').fill('blink S2')
  const rows = page.getByTestId('recipe-region')
  await rows.nth(0).getByTestId('recipe-region-file').selectOption(appSha)
  await expect(rows.nth(0).getByTestId('recipe-region-offset')).toHaveValue('0x10000')
  await page.getByTestId('recipe-add-region').click()
  await rows.nth(1).getByTestId('recipe-region-file').selectOption(tableSha)
  await expect(rows.nth(1).getByTestId('recipe-region-role')).toHaveValue('partition-table')
  await expect(rows.nth(1).getByTestId('recipe-region-offset')).toHaveValue('0x8000')
  await page.getByTestId('serial-pattern').fill('PUMP-{seq:3}')
  await expect(page.getByTestId('serial-preview')).toContainText('PUMP-001')
  await page.getByTestId('recipe-save').click()
  await expect(page.getByTestId('recipe-error')).toHaveCount(0)

  // Flash all three; two succeed, the ESP32-S3 is refused before a byte is written.
  for (const board of [first!, second!, s3]) await page.locator(`[data-testid=bench-port][data-path="${board.path}"]`).getByTestId('bench-port-select').check()
  await page.getByTestId('bench-flash').click()
  const job = (path: string) => page.locator(`[data-testid=flash-job][data-port="${path}"]`)
  await expect(job(first!.path).getByTestId('flash-progress')).toBeVisible()
  await screenshotWhole(page, 'bench-flashing.png')
  for (const board of [first!, second!]) await expect(job(board.path)).toHaveAttribute('data-state', 'done', { timeout: 60_000 })
  await expect(job(s3.path)).toHaveAttribute('data-state', 'failed')
  await expect(job(s3.path).getByTestId('flash-job-error')).toContainText('ESP32-S2')
  await expect(job(s3.path).getByTestId('flash-job-error')).toContainText('ESP32-S3')
  await expect(job(s3.path).getByTestId('flash-job-error')).toContainText('wrong-chip')
  await expect(page.locator(`[data-testid=bench-port][data-path="${s3.path}"]`)).toContainText('ESP32-S3')
  expect(s3.board.flash.subarray(0x8000, 0x9000).every((byte) => byte === 0xff)).toBe(true)

  // Each done job names its chip and MAC and the MD5 of every region, and the boards hold the files.
  for (const board of [first!, second!]) {
    await expect(job(board.path).getByTestId('flash-job-chip')).toContainText('ESP32-S2')
    await expect(job(board.path).getByTestId('flash-job-mac')).toContainText(board.board.macAddress)
    await expect(job(board.path).getByTestId('flash-job-region')).toHaveCount(3)
    const appBytes = readFileSync(app)
    expect(sha256(board.board.flash.subarray(0x10000, 0x10000 + appBytes.length))).toBe(appSha)
    expect(sha256(board.board.flash.subarray(0x8000, 0x8000 + readFileSync(table).length))).toBe(tableSha)
  }
  // The console reads the first board's flash back through the stub and compares every region.
  await job(first!.path).getByTestId('flash-read-back').click()
  await expect(job(first!.path).getByTestId('flash-job-outcome')).toContainText('all 3 regions on the board match what was written', { timeout: 30_000 })
  const serials = await page.getByTestId('flash-job').evaluateAll((els: { getAttribute(name: string): string | null }[]) => els.map((el) => el.getAttribute('data-serial')))
  expect(new Set(serials).size).toBe(3)
  await screenshotWhole(page, 'bench-done.png')

  // The job log keeps who flashed which board with which images.
  const log = await (await page.request.get(`${host.url}api/bench.jobs?limit=10`)).json()
  expect(JSON.stringify(log)).toContain(appSha)
  expect(pageErrors).toEqual([])
})
