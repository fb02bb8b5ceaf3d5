/**
 * The release floor: no wall clock before this is plausible, since no event can be older than the
 * software that records it. Raise it with each release (the release script may generate it); a
 * floor that is too old only means a stale clock after it is caught by GPS instead.
 */
export const BUILD_FLOOR_MS = Date.UTC(2026, 0, 1);
