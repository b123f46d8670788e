export * from './stream-diff'
