package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// RedisLogger writes go-redis's own log lines (pool dial failures,
// connection clean-up) through a [slog.Logger] as warnings, instead of the
// unstructured lines go-redis prints to stderr by default. Install it with
// redis.SetLogger, which is process-wide in go-redis: the command wiring
// does it once at startup (cmd/blindlist serve), never a library.
type RedisLogger struct {
	Logger *slog.Logger
}

// Printf implements go-redis's internal.Logging.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Logger.WarnContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "go-redis")
}
