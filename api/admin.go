package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// AdminHandler serves the operator endpoints, meant for a loopback or
// private listener (they are not authenticated):
//
//	GET  /metrics   the given metrics handler (Prometheus exposition)
//	GET  /healthz   200 while the process runs
//	GET  /readyz    200 when usecases are loaded and not draining
//	GET  /versions  JSON {usecase: [config ids, oldest first, hex]}
//	POST /reload    calls reload (re-read the configuration, swap databases)
//
// reload may be nil (POST /reload then answers 501).
func (s *Server) AdminHandler(reload func(context.Context) error, metrics http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	if metrics != nil {
		r.Method(http.MethodGet, "/metrics", metrics)
	}
	r.Get("/versions", func(w http.ResponseWriter, _ *http.Request) {
		out := map[string][]string{}
		for name, ids := range s.reg.Versions() {
			for _, id := range ids {
				out[name] = append(out[name], hex.EncodeToString(id))
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	r.Post("/reload", func(w http.ResponseWriter, req *http.Request) {
		if reload == nil {
			writeError(w, http.StatusNotImplemented, "reload is not configured", 0)
			return
		}
		start := time.Now()
		if err := reload(req.Context()); err != nil {
			s.log.Error("reload failed", "error", err.Error())
			writeError(w, http.StatusInternalServerError, err.Error(), 0)
			return
		}
		s.log.Info("reloaded", "duration", time.Since(start), "usecases", s.reg.Len())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("reloaded\n"))
	})
	return r
}
