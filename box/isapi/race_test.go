//go:build race

package isapi

// raceEnabled makes the integration tests build cmd/boxd with -race too, so it
// reuses the packages `go test -race ./cmd/boxd/` compiles instead of building
// them twice.
const raceEnabled = true
