// Firmware versions as ESP-IDF writes them, ordered so a downgrade is recognised (pure: the core's
// artifact import and the rollout planner both use it).

/** An app version as ESP-IDF builds write it: PROJECT_VER, or `git describe` ("v1.2.3-4-gabc1234-dirty"). */
export interface FirmwareVersion {
  /** "1.2.3" → [1, 2, 3]. */
  release: number[]
  /** "-rc.1", "-beta3", "-dev": below the release itself; split into words and numbers to compare. */
  preRelease: (number | string)[]
  /** git describe's commit count since the tag: later than the tag. */
  commitsSinceTag: number
  commit?: string
}

/** null when the text does not start with a version number ("qa-test-v5.0", "latest"). */
export function parseFirmwareVersion(text: string): FirmwareVersion | null {
  let rest = text.trim().replace(/-dirty$/, '')
  let commitsSinceTag = 0
  let commit: string | undefined
  const described = /-(\d+)-g([0-9a-f]{4,40})$/.exec(rest)
  if (described) {
    commitsSinceTag = Number(described[1])
    commit = described[2]
    rest = rest.slice(0, described.index)
  }
  const match = /^[vV]?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z][0-9A-Za-z.-]*))?(?:\+[0-9A-Za-z.-]+)?$/.exec(rest)
  if (!match) return null
  const preRelease = (match[2] ?? '')
    .split(/[.-]/)
    .flatMap((part) => part.match(/\d+|\D+/g) ?? [])
    .map((word) => (/^\d+$/.test(word) ? Number(word) : word.toLowerCase()))
  return { release: (match[1] as string).split('.').map(Number), preRelease, commitsSinceTag, ...(commit ? { commit } : {}) }
}

/**
 * Orders two firmware versions the way a release engineer would: numbers numerically ("1.10" after
 * "1.9"), a pre-release before its release, commits after a tag after the tag itself. null when either
 * is not a version, or when both are the same distance from one tag on different commits: nothing says
 * which is newer, and guessing would let a downgrade through.
 */
export function compareFirmwareVersions(a: string, b: string): -1 | 0 | 1 | null {
  const left = parseFirmwareVersion(a)
  const right = parseFirmwareVersion(b)
  if (!left || !right) return null
  const length = Math.max(left.release.length, right.release.length)
  for (let i = 0; i < length; i++) {
    const order = compareValues(left.release[i] ?? 0, right.release[i] ?? 0)
    if (order !== 0) return order
  }
  const leftIsPreRelease = left.preRelease.length > 0
  if (leftIsPreRelease !== right.preRelease.length > 0) return leftIsPreRelease ? -1 : 1
  for (let i = 0; i < Math.max(left.preRelease.length, right.preRelease.length); i++) {
    const l = left.preRelease[i]
    const r = right.preRelease[i]
    // "rc" before "rc.1", as in semver.
    if (l === undefined || r === undefined) return l === undefined ? -1 : 1
    // Also as in semver: numeric words sort before alphabetic ones.
    const order = typeof l === typeof r ? compareValues(l, r) : typeof l === 'number' ? -1 : 1
    if (order !== 0) return order
  }
  const order = compareValues(left.commitsSinceTag, right.commitsSinceTag)
  if (order !== 0) return order
  if (left.commitsSinceTag > 0 && left.commit && right.commit && !right.commit.startsWith(left.commit) && !left.commit.startsWith(right.commit)) return null
  return 0
}

function compareValues<T extends number | string>(a: T, b: T): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0
}
