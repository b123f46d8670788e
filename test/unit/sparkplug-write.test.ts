import { describe, expect, it } from 'vitest'
import { typedWrite } from '../../shared/domain/sparkplug/metric-write'

describe('a metric write typed by the birth certificate', () => {
  it('sends exactly the declared type', () => {
    expect(typedWrite('Outputs/Relay', 'Boolean', true)).toEqual({ ok: true, value: { type: 'Boolean', value: true } })
    expect(typedWrite('Outputs/Relay', 'Boolean', 'false')).toEqual({ ok: true, value: { type: 'Boolean', value: false } })
    expect(typedWrite('Setpoint', 'Float', '21.5')).toEqual({ ok: true, value: { type: 'Float', value: 21.5 } })
    expect(typedWrite('Mode', 'UInt8', 3)).toEqual({ ok: true, value: { type: 'UInt8', value: 3 } })
    expect(typedWrite('Counter', 'UInt64', '18446744073709551615')).toEqual({ ok: true, value: { type: 'UInt64', value: 18446744073709551615n } })
    expect(typedWrite('Label', 'String', 'Line 3')).toEqual({ ok: true, value: { type: 'String', value: 'Line 3' } })
  })

  it('refuses what the device cannot hold, saying what to send instead', () => {
    expect(typedWrite('Mode', 'UInt8', 256)).toEqual({ ok: false, reason: 'Mode is UInt8: send a whole number from 0 to 255, not 256.' })
    expect(typedWrite('Offset', 'Int8', -129)).toMatchObject({ ok: false, reason: expect.stringContaining('from -128 to 127') })
    expect(typedWrite('Mode', 'Int32', 1.5)).toMatchObject({ ok: false, reason: expect.stringContaining('whole number') })
    expect(typedWrite('Outputs/Relay', 'Boolean', 1)).toMatchObject({ ok: false, reason: expect.stringContaining('true or false') })
    expect(typedWrite('Setpoint', 'Double', 'warm')).toMatchObject({ ok: false, reason: expect.stringContaining('a number') })
    expect(typedWrite('Counter', 'UInt64', '-1')).toMatchObject({ ok: false, reason: expect.stringContaining('from 0 to') })
    expect(typedWrite('Counter', 'Int64', 2 ** 60)).toMatchObject({ ok: false, reason: expect.stringContaining('as text') })
    expect(typedWrite('Table', 'DataSet', 'x')).toMatchObject({ ok: false, reason: 'Table is DataSet: the console does not write DataSet values.' })
  })
})
