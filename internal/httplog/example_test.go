package httplog_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/blindlist/blindlist/internal/httplog"
)

func ExampleRedact() {
	fmt.Println(httplog.Redact("http2: server connection error from 192.0.2.7:42800: connection error: COMPRESSION_ERROR"))
	fmt.Println(httplog.Redact("http: panic serving [2001:db8::7]:443: boom"))
	// Output:
	// http2: server connection error from <client>: connection error: COMPRESSION_ERROR
	// http: panic serving <client>: boom
}

func ExampleNewErrorLog() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	srv := &http.Server{
		Addr:     "127.0.0.1:8080",
		ErrorLog: httplog.NewErrorLog(logger.Handler(), slog.LevelWarn),
	}
	_ = srv // srv.ListenAndServe()
}
