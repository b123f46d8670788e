import packageJson from '../../package.json'

export const product = { name: packageJson.productName, version: packageJson.version }
