import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

// One build produces every runnable part: the Electron main process, the headless host (same Node
// bundle, so both hosts run the same core), the sandboxed preload (CommonJS, as Electron's sandbox
// requires) and the renderer that both hosts serve.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        input: {
          index: resolve('electron/main/index.ts'),
          server: resolve('electron/server/cli.ts'),
          flash: resolve('electron/server/flash-cli.ts'),
          // Both hosts start it as a worker thread from beside themselves: see CoreConfig.siteWorker.
          'site-worker': resolve('electron/core/site/site-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rolldownOptions: {
        input: { index: resolve('electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [react()],
    build: {
      outDir: resolve('out/renderer'),
      // Served over the network by the headless host, so it is minified like any web app.
      minify: true,
      rolldownOptions: { input: { index: resolve('renderer/index.html') } },
    },
  },
})
