package camsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// controlRoutes is the test-only JSON API under /sim/ (see the package doc). It has
// no authentication by design: it is a knob for tests and the demo, bound to the
// simulator's loopback listener, with no counterpart on a real device.
func (s *Sim) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Status())
	})
	knob := func(f func(ch int, r *http.Request) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ch, err := strconv.Atoi(r.PathValue("ch"))
			if err == nil {
				err = f(ch, r)
			}
			replyErr(w, err)
		}
	}
	mux.HandleFunc("POST /sim/streams/{ch}/stop", knob(func(ch int, _ *http.Request) error { return s.StopStream(ch) }))
	mux.HandleFunc("POST /sim/streams/{ch}/start", knob(func(ch int, _ *http.Request) error { return s.StartStream(ch) }))
	mux.HandleFunc("POST /sim/streams/{ch}/restart", knob(func(ch int, _ *http.Request) error { return s.RestartStream(ch) }))
	mux.HandleFunc("POST /sim/streams/{ch}/resume", knob(func(ch int, _ *http.Request) error { return s.Resume(ch) }))
	mux.HandleFunc("POST /sim/streams/{ch}/stall", knob(func(ch int, r *http.Request) error {
		secs, err := floatParam(r, "seconds", 0)
		if err != nil {
			return err
		}
		return s.Stall(ch, time.Duration(secs*float64(time.Second)))
	}))
	mux.HandleFunc("POST /sim/streams/{ch}/garbage", knob(func(ch int, r *http.Request) error {
		n, err := floatParam(r, "packets", 10)
		if err != nil {
			return err
		}
		return s.SendGarbage(ch, int(n))
	}))
	mux.HandleFunc("POST /sim/events", func(w http.ResponseWriter, r *http.Request) {
		var ev eventJSON
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			replyErr(w, fmt.Errorf("%w: %w", errBadRequest, err))
			return
		}
		replyErr(w, s.Trigger(ev.Channel, ev.Type, time.Duration(ev.Seconds*float64(time.Second))))
	})
	mux.HandleFunc("DELETE /sim/events", func(w http.ResponseWriter, r *http.Request) {
		s.ClearEvents()
		replyErr(w, nil)
	})
	mux.HandleFunc("POST /sim/script", func(w http.ResponseWriter, r *http.Request) {
		var evs []eventJSON
		if err := json.NewDecoder(r.Body).Decode(&evs); err != nil {
			replyErr(w, fmt.Errorf("%w: %w", errBadRequest, err))
			return
		}
		script := make([]ScriptEvent, 0, len(evs))
		for _, ev := range evs {
			if ev.Channel < 0 || ev.Channel > len(s.cfg.Channels) || ev.Type == "" {
				replyErr(w, fmt.Errorf("%w: bad script event %+v", errBadRequest, ev))
				return
			}
			script = append(script, ScriptEvent{
				At: time.Duration(ev.At * float64(time.Second)), Channel: ev.Channel, Type: ev.Type,
				Duration: time.Duration(ev.Seconds * float64(time.Second)),
			})
		}
		replyErr(w, s.RunScript(script))
	})
	mux.HandleFunc("GET /sim/alert/quirks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.AlertQuirks())
	})
	mux.HandleFunc("PUT /sim/alert/quirks", func(w http.ResponseWriter, r *http.Request) {
		q := s.AlertQuirks() // fields absent from the JSON keep their value
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			replyErr(w, fmt.Errorf("%w: %w", errBadRequest, err))
			return
		}
		if err := s.SetAlertQuirks(q); err != nil {
			replyErr(w, fmt.Errorf("%w: %w", errBadRequest, err))
			return
		}
		writeJSON(w, http.StatusOK, q)
	})
	mux.HandleFunc("POST /sim/alert/disconnect", func(w http.ResponseWriter, r *http.Request) {
		s.DisconnectAlerts()
		replyErr(w, nil)
	})
	return mux
}

// eventJSON is the control API's event: times in (fractional) seconds.
type eventJSON struct {
	At      float64 `json:"at"`
	Channel int     `json:"channel"`
	Type    string  `json:"type"`
	Seconds float64 `json:"seconds"`
}

func floatParam(r *http.Request, name string, def float64) (float64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%w: %s=%q", errBadRequest, name, v)
	}
	return f, nil
}

// replyErr maps errors to HTTP statuses in one place.
func replyErr(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case errors.Is(err, ErrNoChannel):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, ErrNotStarted):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
