import { readFile } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
}

export interface StaticFile {
  body: Buffer
  type: string
  /** Vite names assets by content hash, so they never change and can be cached for good. */
  immutable: boolean
}

/** Reads a file of the built renderer; null for anything outside it or missing. */
export async function readRendererFile(rendererDir: string, urlPath: string): Promise<StaticFile | null> {
  let path: string
  try {
    path = decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath)
  } catch {
    return null
  }
  const file = normalize(join(rendererDir, path))
  if (!file.startsWith(rendererDir + sep)) return null
  try {
    return { body: await readFile(file), type: contentTypes[extname(file)] ?? 'application/octet-stream', immutable: path.startsWith('/assets/') }
  } catch {
    return null
  }
}
