/** What the last action said: its error as an alert, or else its note as a status line. */
export function BenchMessage(props: { error: string | null; note: string | null; errorTestId: string }) {
  if (props.error) {
    return (
      <p className="error bench-message" role="alert" data-testid={props.errorTestId}>
        {props.error}
      </p>
    )
  }
  if (!props.note) return null
  return (
    <p className="bench-message ok" role="status">
      {props.note}
    </p>
  )
}
