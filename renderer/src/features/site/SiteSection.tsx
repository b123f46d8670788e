import { EmptyState } from '../../shell/EmptyState'

export function SiteSection() {
  return (
    <EmptyState
      title="Site"
      holds="The site plan: boundary, zones, walls and mounting points from a surveyed KML, with camera and sensor coverage, radio links, placement of nodes, power budget and a bill of materials — all from one model, so they never disagree."
      status="Site planning is not in this version yet."
      start={<p>You will import a KML or KMZ from your survey tool, or a site image placed by two points. Planned nodes then flow to the Bench and the Fleet.</p>}
    />
  )
}
