// Baseline for the contract benchmark: a bare `ws` server that sends each message straight back.
import { WebSocketServer } from 'ws'

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' }, () =>
  process.stdout.write(`listening at http://127.0.0.1:${server.address().port}/\n`),
)
server.on('connection', (socket) => socket.on('message', (data) => socket.send(data.toString())))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
