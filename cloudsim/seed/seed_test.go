package seed_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
	"github.com/proconnect-oss/boxfw/cloudsim/seed"
	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

func TestApplyDemoTwice(t *testing.T) {
	db, err := store.Open(t.TempDir(), store.Options{})
	require.NoError(t, err)
	defer db.Close()
	srv, err := api.New(api.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, BcryptCost: bcrypt.MinCost})
	require.NoError(t, err)
	res, err := seed.Apply(srv.Handler(), seed.Demo())
	require.NoError(t, err)
	require.NotEmpty(t, res.SiteID)
	require.NotEmpty(t, res.BoxID)
	require.False(t, res.AlreadySeeded)
	res, err = seed.Apply(srv.Handler(), seed.Demo())
	require.NoError(t, err)
	require.True(t, res.AlreadySeeded)
}

func TestLoadFileOverridesDemo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seed.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"box_serial":"MYBOX","channels":[{"channel":1,"device":"nvr","device_channel":1,"package":"30d-annual"}]}`), 0o600))
	spec, err := seed.Load(p)
	require.NoError(t, err)
	require.Equal(t, "MYBOX", spec.BoxSerial)
	require.Len(t, spec.Channels, 1)
	require.Equal(t, "admin@demo.test", spec.AdminEmail, "unset fields keep the demo's")
	_, err = seed.Load(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err)
}
