// MapLibre's CSP build: the same API as the package's main entry, without the worker inlined as a blob,
// so the worker comes from a file the console serves itself (see site-map-view.ts).
declare module 'maplibre-gl/dist/maplibre-gl-csp' {
  export * from 'maplibre-gl'
}
