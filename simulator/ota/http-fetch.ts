// How a virtual node fetches an OTA image: one HTTP(S) GET per attempt, as esp_https_ota does with
// esp_http_client, asking for `Range: bytes=N-` when N bytes already sit in the slot. The caller owns
// retries, timeouts and what the bytes mean; this only turns a response into start / data / end / fail.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface FetchSink {
  /** The response's first byte is byte `offset` of a file of `total` bytes. */
  start(range: { offset: number; total: number }): void
  data(chunk: Uint8Array): void
  /** The server sent the whole response. */
  end(): void
  /** The attempt is over without the whole response: refused, reset, unreachable, bad certificate. */
  fail(reason: string): void
}

export interface FetchHandle {
  /** Ends the attempt; the sink hears nothing more. */
  abort(): void
  /** Stops reading the response (the bytes back up toward the server, as a stuck TCP window does). */
  pause(): void
}

/** Starts one attempt; the sink is called back only after this returns, never from inside it. */
export type ImageFetcher = (request: { url: string; from: number }, sink: FetchSink) => FetchHandle

export interface HttpFetchOptions {
  /** PEM certificate(s) to trust for https:// URLs, e.g. the site CA or the console's self-signed certificate. */
  ca?: string | Buffer | readonly (string | Buffer)[]
  /** Accept any server certificate, as CONFIG_ESP_TLS_SKIP_SERVER_CERT_VERIFY does: for tests and labs only. */
  insecure?: boolean
}

export function httpImageFetcher(options: HttpFetchOptions = {}): ImageFetcher {
  return ({ url, from }, sink) => {
    let done = false
    let response: IncomingMessage | null = null
    let request: ClientRequest | null = null
    const finish = (then: () => void) => {
      if (done) return
      done = true
      then()
    }
    const handle: FetchHandle = {
      abort() {
        done = true
        request?.destroy()
      },
      pause() {
        response?.pause()
      },
    }
    let target: URL
    try {
      target = new URL(url)
    } catch {
      queueMicrotask(() => finish(() => sink.fail(`not a URL: ${url}`)))
      return handle
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      queueMicrotask(() => finish(() => sink.fail(`unsupported scheme ${target.protocol}`)))
      return handle
    }
    const headers: Record<string, string> = { 'User-Agent': 'ESP32 HTTP Client/1.0' }
    if (from > 0) headers.Range = `bytes=${from}-`
    const tls = target.protocol === 'https:' ? { ...(options.ca ? { ca: options.ca as string | Buffer | (string | Buffer)[] } : {}), rejectUnauthorized: !options.insecure } : {}
    // agent: false: every attempt is its own connection, as esp_http_client opens one per OTA attempt.
    request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method: 'GET', headers, agent: false, ...tls })
    request.on('response', (res) => {
      response = res
      if (done) return void res.destroy()
      const status = res.statusCode ?? 0
      let offset = 0
      let total = Number.NaN
      if (status === 200) {
        total = Number(res.headers['content-length'])
      } else if (status === 206) {
        const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))
        if (range) {
          offset = Number(range[1])
          total = Number(range[3])
        }
      } else {
        res.resume()
        finish(() => sink.fail(`HTTP ${status}`))
        request?.destroy()
        return
      }
      if (!Number.isSafeInteger(total) || total < 0) {
        finish(() => sink.fail(`HTTP ${status} without a usable length`))
        request?.destroy()
        return
      }
      sink.start({ offset, total })
      res.on('data', (chunk: Buffer) => {
        if (!done) sink.data(chunk)
      })
      res.on('end', () => finish(() => sink.end()))
      res.on('error', (error) => finish(() => sink.fail(error.message)))
      res.on('close', () => finish(() => sink.fail('connection closed before the whole response')))
    })
    request.on('error', (error) => finish(() => sink.fail(error.message)))
    request.end()
    return handle
  }
}
