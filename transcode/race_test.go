//go:build race

package transcode

// raceEnabled: the race detector's shadow memory grows RSS by itself.
const raceEnabled = true
