// `npm run bench [-- NAME]`: every benchmark, or one by name. Each prints its figures and ends with
// one line `NAME: ratio=R …` against a baseline measured in the same run.
import { buildIfStale } from '../scripts/build-if-stale.mjs'
import { contract } from './contract.bench'
import { coverage } from './coverage.bench'
import { flash } from './flash.bench'
import { ingest } from './ingest.bench'
import { otaDelivery } from './ota-delivery.bench'
import { otaReliability } from './ota-reliability.bench'
import { placement } from './placement.bench'
import { screen } from './screen.bench'
import { startup } from './startup.bench'

const benchmarks: Record<string, () => Promise<string>> = { startup, contract, ingest, screen, flash, 'ota-delivery': otaDelivery, 'ota-reliability': otaReliability, coverage, placement }

const wanted = process.argv.slice(2)
const unknown = wanted.filter((name) => !(name in benchmarks))
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}. Known: ${Object.keys(benchmarks).join(', ')}.`)
  process.exit(2)
}

buildIfStale()
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  console.log(`${name}:`)
  console.log(await benchmarks[name]!())
}
