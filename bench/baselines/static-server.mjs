// Baseline for the startup benchmark: the least a Node process can do to serve the same page.
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'

const page = readFileSync(process.argv[2])
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/html' })
  response.end(page)
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening at http://127.0.0.1:${server.address().port}/\n`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
