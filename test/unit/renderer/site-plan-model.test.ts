import { describe, expect, it } from 'vitest'
import { curvePolyline, formatArea, formatShare, placementEdits } from '../../../renderer/src/features/site/plan-model'

describe('site plan figures', () => {
  it('adds a proposal as devices numbered on from the plan, never reusing an id', () => {
    const devices = [
      { id: 'cam-2', partNumber: 'CAM-T28-2M-028', mountingPointId: 'pole-1', orientationDeg: 0 },
      { id: 'cam-07', partNumber: 'CAM-T28-2M-028', mountingPointId: 'pole-1', orientationDeg: 0 },
      { id: 'sensor-x', partNumber: 'PIR-12-090', mountingPointId: 'pole-1', orientationDeg: 0 },
    ]
    const edits = placementEdits({ devices }, [
      { partNumber: 'CAM-B28-4M-040', mountingPointId: 'pole-2', orientationDeg: 90, kind: 'camera' },
      { partNumber: 'PIR-12-090', mountingPointId: 'pole-3', orientationDeg: 180, kind: 'sensor' },
      { partNumber: 'CAM-B28-4M-040', mountingPointId: 'pole-4', orientationDeg: 270, kind: 'camera' },
    ])
    // "cam-07" counts as 7: the next camera is cam-8, so nobody reads cam-7 and cam-07 as one device.
    expect(edits.map((edit) => edit.op === 'add' && edit.item.id)).toEqual(['cam-8', 'sensor-1', 'cam-9'])
    expect(edits[1]).toEqual({ op: 'add', collection: 'devices', item: { id: 'sensor-1', partNumber: 'PIR-12-090', mountingPointId: 'pole-3', orientationDeg: 180 } })
  })

  it('shows shares without rounding a gap away', () => {
    expect(formatShare(0.873)).toBe('87.3 %')
    expect(formatShare(0.99996)).toBe('99.9 %')
    expect(formatShare(1)).toBe('100.0 %')
    expect(formatShare(null)).toBe('—')
    expect(formatArea(3.25)).toBe('3.3 m²')
    expect(formatArea(412.4)).toBe('412 m²')
    expect(formatArea(15_000)).toBe('1.50 ha')
  })

  it('draws the placement curve in its box: nodes across, coverage up', () => {
    const curve = [
      { nodes: 0, coveredShare: 0.2, costEur: 0 },
      { nodes: 2, coveredShare: 0.7, costEur: 340 },
      { nodes: 4, coveredShare: 1, costEur: 680 },
    ]
    expect(curvePolyline(curve, 200, 100)).toBe('0,80 100,30 200,0')
    expect(curvePolyline([], 200, 100)).toBe('')
  })
})
