// Package e2e holds the end-to-end tests of the whole system: the real boxd,
// camsim and cloudsim binaries as processes, MinIO as the object store, and the
// ffprobe CLI judging the clips. Only tests live here.
package e2e
