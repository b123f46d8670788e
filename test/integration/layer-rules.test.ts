import { execFile } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const planted: string[] = []

function plant(path: string, source: string): void {
  writeFileSync(path, source)
  planted.push(path)
}

async function fails(command: string, args: string[]): Promise<string> {
  try {
    await run(command, args, { maxBuffer: 10 * 1024 * 1024 })
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string }
    return stdout + stderr
  }
  throw new Error(`${command} ${args.join(' ')} passed with a planted violation`)
}

afterEach(() => {
  for (const path of planted.splice(0)) rmSync(path, { force: true })
})

// The layer rules are only worth something if they fail: plant one violation per rule and watch the checks refuse it.
describe('layer rules of ARCHITECTURE.md', () => {
  it('refuse a domain module that reaches for Node, a renderer that imports the core, a core that imports electron', async () => {
    plant('shared/domain/zz-planted.ts', "import { readFileSync } from 'node:fs'\nexport const planted = readFileSync\n")
    plant('renderer/src/zz-planted.ts', "import { createCore } from '../../electron/core'\nexport const planted = createCore\n")
    plant('electron/core/zz-planted.ts', "import { app } from 'electron'\nexport const planted = app\n")
    plant('simulator/zz-planted.ts', "import { createCore } from '../electron/core'\nexport const planted = createCore\n")
    const output = await fails('npx', ['depcruise', '--config', '.dependency-cruiser.cjs', 'electron', 'renderer', 'shared', 'simulator'])
    expect(output).toMatch(/shared-no-node-builtins|domain-is-pure/)
    expect(output).toContain('renderer-is-a-web-page')
    expect(output).toMatch(/core-never-electron|core-no-electron-module/)
    expect(output).toContain('simulator-is-the-other-end')
  }, 60_000)

  it('compile shared/ without DOM or Node types, so `window` and `Buffer` there do not build', async () => {
    plant('shared/domain/zz-planted.ts', 'export const a = window.location\nexport const b = Buffer.from("x")\n')
    const output = await fails('npx', ['tsc', '-p', 'tsconfig.shared.json'])
    expect(output).toContain("Cannot find name 'window'")
    expect(output).toContain("Cannot find name 'Buffer'")
  }, 60_000)
})
