/**
 * What a serial port is, from its USB vendor and product ids: the bridge chip between the laptop and
 * the ESP32, named as it is printed on the board, and what usually helps when a board behind it does
 * not answer. (How each is reset into the bootloader is rom-bootloader/reset.ts's business.)
 */

export interface UsbSerialBridge {
  /** What the engineer calls it: the chip printed on the board next to the USB connector. */
  name: string
  /** Said when a board behind it never answers: what usually helps with this bridge. */
  syncHint: string
}

const holdBoot = 'hold BOOT (GPIO0) and press EN (RST), then try again'

const bridges: ReadonlyMap<string, UsbSerialBridge> = new Map([
  ['10c4:ea60', { name: 'CP210x (Silicon Labs CP2102/CP2104)', syncHint: `If it never answers, ${holdBoot}; some boards lack the auto-reset transistors.` }],
  ['10c4:ea70', { name: 'CP2105 (Silicon Labs, dual)', syncHint: `Use the enhanced (first) interface. If it never answers, ${holdBoot}.` }],
  ['10c4:ea71', { name: 'CP2108 (Silicon Labs, quad)', syncHint: `If it never answers, ${holdBoot}.` }],
  ['1a86:7523', { name: 'CH340 (WCH)', syncHint: `If it never answers, ${holdBoot}; a CH340 above 460800 baud is often unreliable, so lower the baud.` }],
  ['1a86:7522', { name: 'CH340K (WCH)', syncHint: `If it never answers, ${holdBoot}.` }],
  ['1a86:55d4', { name: 'CH9102 (WCH)', syncHint: `If it never answers, ${holdBoot}; older Linux kernels need the ch9102 driver.` }],
  ['1a86:55d3', { name: 'CH343 (WCH)', syncHint: `If it never answers, ${holdBoot}.` }],
  ['0403:6001', { name: 'FTDI FT232R', syncHint: `If it never answers, ${holdBoot}.` }],
  ['0403:6010', { name: 'FTDI FT2232H (ESP-Prog)', syncHint: `The serial port is the second interface of an ESP-Prog. If it never answers, ${holdBoot}.` }],
  ['0403:6014', { name: 'FTDI FT232H', syncHint: `If it never answers, ${holdBoot}.` }],
  ['0403:6015', { name: 'FTDI FT231X', syncHint: `If it never answers, ${holdBoot}.` }],
  ['067b:2303', { name: 'Prolific PL2303', syncHint: `If it never answers, ${holdBoot}; counterfeit PL2303s drop bytes above 115200 baud.` }],
  ['303a:1001', { name: 'ESP32 USB-Serial-JTAG (built into S3/C3/C6/H2)', syncHint: 'If it never answers, hold BOOT while plugging the cable in; an application that reconfigured GPIO19/20 hides the port.' }],
  ['303a:0002', { name: 'ESP32-S2/S3 USB (ROM download mode)', syncHint: 'The port changes name when the chip resets; pick it again after a reset.' }],
])

const unknownBridge: UsbSerialBridge = {
  name: 'serial port',
  syncHint: `If it never answers, ${holdBoot}, and check that the board is powered and the cable carries data.`,
}

/** The bridge behind a port, from ids as the OS reports them (hex text, any case, with or without 0x). */
export function identifyBridge(vendorId: string | undefined, productId: string | undefined): UsbSerialBridge {
  if (!vendorId || !productId) return unknownBridge
  const key = `${normaliseId(vendorId)}:${normaliseId(productId)}`
  return bridges.get(key) ?? { ...unknownBridge, name: `USB serial ${key}` }
}

function normaliseId(id: string): string {
  return id.toLowerCase().replace(/^0x/, '').padStart(4, '0')
}
