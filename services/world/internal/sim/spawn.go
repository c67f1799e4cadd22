package sim

// SpawnPoint returns where the player of sessionID appears in a world of side
// size: a hash of the session id (SplitMix64's finalizer), so the point is
// the same after a world restart, and spread uniformly over the map, so that
// load tests with many sessions see realistic densities rather than one
// crowd.
func SpawnPoint(sessionID uint64, size float32) (x, y float32) {
	h := sessionID + 0x9e3779b97f4a7c15
	h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
	h = (h ^ h>>27) * 0x94d049bb133111eb
	h ^= h >> 31
	const unit = 1.0 / (1 << 24) // 24 bits: exact in a float32
	x = float32(h>>40) * unit * size
	y = float32(h>>16&(1<<24-1)) * unit * size
	return x, y
}
