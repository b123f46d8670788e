import type { ReactNode } from 'react'

/** Says honestly what a section will hold and how to start, instead of an empty page. */
export function EmptyState(props: { title: string; holds: string; start: ReactNode; status?: string }) {
  return (
    <div className="empty-state">
      <h2>{props.title}</h2>
      <p className="holds">{props.holds}</p>
      {props.status && <p className="badge" role="note">{props.status}</p>}
      <div className="start">
        <h3>How to start</h3>
        {props.start}
      </div>
    </div>
  )
}
