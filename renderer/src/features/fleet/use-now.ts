import { useEffect, useRef, useState } from 'react'

/** The time, advancing every `intervalMs`: keeps "12 s ago" true without a store update. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs)
    return () => clearInterval(timer)
  }, [intervalMs])
  return now
}

/** Runs `tick` every `intervalMs` while mounted; a new `tick` is used without restarting the timer. */
export function useInterval(tick: () => void, intervalMs: number): void {
  const latest = useRef(tick)
  useEffect(() => {
    latest.current = tick
  })
  useEffect(() => {
    const timer = setInterval(() => latest.current(), intervalMs)
    return () => clearInterval(timer)
  }, [intervalMs])
}
