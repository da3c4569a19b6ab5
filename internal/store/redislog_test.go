package store

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// safeBuffer is a bytes.Buffer for go-redis's goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRedisLogger has go-redis log a real event (dialing a closed port)
// through RedisLogger and checks that it arrives as one structured record.
func TestRedisLogger(t *testing.T) {
	var buf safeBuffer
	redis.SetLogger(RedisLogger{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	// SetLogger is process-wide: hand later tests the default logger.
	t.Cleanup(func() { redis.SetLogger(RedisLogger{Logger: slog.Default()}) })

	c := redis.NewClient(RedisClientOptions("127.0.0.1:1", ""))
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping of 127.0.0.1:1 succeeded")
	}
	out := buf.String()
	var rec struct {
		Level     string `json:"level"`
		Msg       string `json:"msg"`
		Component string `json:"component"`
	}
	line, _, _ := strings.Cut(out, "\n")
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("go-redis line %q: %v", out, err)
	}
	if rec.Level != "WARN" || rec.Component != "go-redis" || !strings.HasPrefix(rec.Msg, "redis: connection pool: failed to dial") {
		t.Errorf("record %+v from %q", rec, out)
	}
}
