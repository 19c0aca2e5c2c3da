//go:build !race

package isapi

const raceEnabled = false
