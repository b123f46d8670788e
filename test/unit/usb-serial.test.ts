import { describe, expect, it } from 'vitest'
import { identifyBridge } from '../../shared/domain/bench/usb-serial'

describe('identifyBridge', () => {
  it('names the common bridges from the ids the OS reports, in any case and with or without 0x', () => {
    expect(identifyBridge('10c4', 'ea60').name).toMatch(/^CP210x/)
    expect(identifyBridge('1A86', '7523').name).toMatch(/^CH340/)
    expect(identifyBridge('0x1a86', '0x55d4').name).toMatch(/^CH9102/)
    expect(identifyBridge('403', '6001').name).toMatch(/^FTDI FT232R/)
    expect(identifyBridge('303a', '1001').name).toMatch(/USB-Serial-JTAG/)
  })

  it('says what it can for an unknown adapter or a port without USB ids, and how to get a board to answer', () => {
    expect(identifyBridge('dead', 'beef').name).toBe('USB serial dead:beef')
    expect(identifyBridge(undefined, undefined)).toMatchObject({ name: 'serial port', syncHint: expect.stringContaining('hold BOOT') })
  })
})
