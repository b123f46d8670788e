import { describe, expect, it, vi } from 'vitest'
import { defaultSettings, methodNames, methods, publicSettings } from '../../shared/contract'

const shownSettings = publicSettings(defaultSettings)
import { createDispatcher, type CallContext, type Handlers } from '../../electron/core/dispatcher'
import { ContractFailure } from '../../electron/core/failure'
import type { Logger } from '../../electron/core/log'

const context: CallContext = { actor: 'ada', via: 'local' }

function setup(overrides: Partial<Handlers> = {}) {
  const log: Logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() }
  const handlers: Handlers = {
    'system.health': () => ({
      product: 'p',
      version: '0',
      host: { kind: 'headless' },
      startedAt: 0,
      services: { host: { state: 'up', detail: '' }, store: { state: 'up', detail: '' }, broker: { state: 'off', detail: '' } },
    }),
    'session.whoami': (_params, ctx) => ({ actor: ctx.actor, via: ctx.via }),
    'settings.get': () => shownSettings,
    'settings.update': () => shownSettings,
    'audit.list': () => [],
    'fleet.device': () => {
      throw new ContractFailure('NOT_FOUND', 'none')
    },
    'fleet.series': () => ({ metric: 'm', resolution: 0, times: [], values: [] }),
    'fleet.rebirth': () => ({ requested: true }),
    'fleet.write': () => ({ sent: true }),
    'demo.fault': () => ({ injected: 'power cut' }),
    'bench.ports': () => [],
    'bench.firmware': () => [],
    'bench.importFirmware': () => ({ sha256: '0'.repeat(64), fileName: 'a.bin', size: 1, importedAt: 0, summary: 'data', kind: 'data', chip: null }),
    'bench.recipes': () => [],
    'bench.saveRecipe': () => ({ name: 'r', regions: [], serialPattern: 'N-{seq}', baud: 921600, updatedAt: 0 }),
    'bench.deleteRecipe': () => ({ deleted: true }),
    'bench.flash': () => ({ batchId: 1, jobIds: [1] }),
    'bench.cancel': () => ({ cancelled: true }),
    'bench.resume': () => ({ jobIds: [] }),
    'bench.jobs': () => [],
    'bench.readBack': () => ({ regions: [] }),
    'bench.nextSeq': () => ({ firstSeq: 1 }),
    'site.import': () => {
      throw new ContractFailure('INVALID_PARAMS', 'no')
    },
    'site.current': () => null,
    'site.plan': () => null,
    'site.savePlan': conflict,
    'site.openPlan': () => {
      throw new ContractFailure('INVALID_PARAMS', 'no')
    },
    'site.catalogue': () => ({ parts: [], source: 'built-in', editedAt: null }),
    'site.saveCatalogue': () => {
      throw new ContractFailure('INVALID_PARAMS', 'no')
    },
    'site.resetCatalogue': () => ({ parts: [], source: 'built-in', editedAt: null }),
    'site.coverage': noPlan,
    'site.placement': noPlan,
    'site.outputs': noPlan,
    'site.export': noPlan,
    'ota.importArtifact': () => {
      throw new ContractFailure('INVALID_PARAMS', 'no')
    },
    'ota.artifacts': () => [],
    'ota.preview': notFound,
    'ota.start': notFound,
    'ota.pause': notFound,
    'ota.resume': notFound,
    'ota.abort': notFound,
    'ota.rollouts': () => [],
    'ota.rollout': notFound,
    ...overrides,
  }
  return { dispatch: createDispatcher(handlers, log), log }
}

function noPlan(): never {
  throw new ContractFailure('NOT_FOUND', 'no site plan')
}

function conflict(): never {
  throw new ContractFailure('CONFLICT', 'saved since')
}

function notFound(): never {
  throw new ContractFailure('NOT_FOUND', 'no rollout')
}

describe('createDispatcher', () => {
  it('answers an unknown method with UNKNOWN_METHOD listing the known methods', async () => {
    const { dispatch } = setup()
    const outcome = await dispatch('settings.delete', {}, context)
    expect(outcome.ok).toBe(false)
    if (outcome.ok) return
    expect(outcome.error.code).toBe('UNKNOWN_METHOD')
    expect(outcome.error.message).toContain('settings.delete')
    for (const name of methodNames) expect(outcome.error.message).toContain(name)
    expect((await dispatch(42, {}, context)).ok).toBe(false)
  })

  it('answers wrong parameter types with INVALID_PARAMS and the path of each problem', async () => {
    const audit = vi.fn(() => [])
    const { dispatch } = setup({ 'audit.list': audit })
    const outcome = await dispatch('audit.list', { limit: 'ten', beforeId: -1 }, context)
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS' } })
    if (outcome.ok) return
    expect(outcome.error.issues?.map((issue) => issue.path).sort()).toEqual(['beforeId', 'limit'])
    expect(outcome.error.message).toMatch(/limit|beforeId/)
    expect(audit).not.toHaveBeenCalled()

    const update = await dispatch('settings.update', { pushRateHz: 99 }, context)
    expect(update).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', issues: [{ path: 'pushRateHz' }] } })
    // The operator reads the setting's name as the screen shows it, not the internal key.
    expect(!update.ok && update.error.message).toBe('Invalid parameters for settings.update: Screen updates per second: Too big: expected number to be <=10.')
  })

  it('passes a ContractFailure thrown by a handler through with its own code and message', async () => {
    const { dispatch } = setup({
      'settings.get': () => {
        throw new ContractFailure('UNAVAILABLE', 'The store is down.')
      },
    })
    expect(await dispatch('settings.get', {}, context)).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: 'The store is down.' } })
  })

  it('turns an Error thrown by a handler (sync or async) into INTERNAL and keeps answering', async () => {
    let calls = 0
    const { dispatch, log } = setup({
      'settings.get': () => {
        calls++
        throw new Error('disk on fire')
      },
      'audit.list': async () => {
        throw new TypeError('boom')
      },
    })
    const outcome = await dispatch('settings.get', {}, context)
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: expect.stringContaining('disk on fire') } })
    expect(await dispatch('audit.list', {}, context)).toMatchObject({ ok: false, error: { code: 'INTERNAL' } })
    expect(log.error).toHaveBeenCalledTimes(2)
    expect(await dispatch('session.whoami', {}, context)).toEqual({ ok: true, value: { actor: 'ada', via: 'local' } })
    expect(calls).toBe(1)
  })

  it('treats undefined params as {} so defaults apply', async () => {
    const audit = vi.fn((params: { limit: number; beforeId?: number }) => {
      void params
      return []
    })
    const { dispatch } = setup({ 'audit.list': audit })
    expect(await dispatch('audit.list', undefined, context)).toEqual({ ok: true, value: [] })
    expect(audit).toHaveBeenCalledWith({ limit: 100 }, context)
    expect(await dispatch('settings.get', undefined, context)).toEqual({ ok: true, value: shownSettings })
    expect(await dispatch('settings.get', null, context)).toEqual({ ok: true, value: shownSettings })
  })

  it('passes the call context to the handler', async () => {
    const { dispatch } = setup()
    expect(await dispatch('session.whoami', {}, { actor: 'grace', via: 'session' })).toEqual({ ok: true, value: { actor: 'grace', via: 'session' } })
  })

  it('refuses unknown parameters and an empty settings change, so a typo never passes as a no-op', async () => {
    const update = vi.fn(() => shownSettings)
    const { dispatch } = setup({ 'settings.update': update })
    expect(await dispatch('audit.list', { limit: 5, evil: true }, context)).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS' } })
    expect(await dispatch('settings.update', {}, context)).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS' } })
    // A partial change must not be filled with defaults: only the named field reaches the handler.
    await dispatch('settings.update', { theme: 'light' }, context)
    expect(update).toHaveBeenCalledWith({ theme: 'light' }, context)
  })

  it('has a schema for every method the channel list names', () => {
    expect(Object.keys(methods).sort()).toEqual([...methodNames].sort())
  })
})
