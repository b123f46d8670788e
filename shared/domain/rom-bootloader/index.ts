// The pure half of Espressif's ROM / stub serial bootloader protocol (fixtures/esptool/serial-protocol.rst),
// shared by the console's flasher and the simulated board that answers it on a pseudo-terminal.
export * from './slip'
export * from './packets'
export * from './commands'
export * from './chips'
export * from './flash-plan'
export * from './reset'
export * from './boot-log'
