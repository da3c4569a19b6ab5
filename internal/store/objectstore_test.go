package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/store/s3"
	"github.com/blindlist/blindlist/internal/store/s3test"
)

// objectBackend runs the shared KV tests on a real SeaweedFS; expiry uses
// the store's clock (the TTL is checked on read).
func objectBackend(t *testing.T, srv *s3test.Server) (*Object, func(time.Duration)) {
	o := NewObject(srv.Client(t), "test/")
	if err := o.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	var skew atomic.Int64
	o.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	return o, func(d time.Duration) { skew.Add(int64(d)) }
}

// TestObjectKV covers the object store on a real S3 server (SeaweedFS):
// the KV contract, reads after a server restart, expiry, a torn or
// foreign object read as absent, the server killed mid-upload, and the
// server down and back.
func TestObjectKV(t *testing.T) {
	srv := s3test.Start(t)
	o, advance := objectBackend(t, srv)
	n := 0
	newKV := func(t *testing.T, l Limits) KV {
		n++
		kv, err := o.KV("kv"+string(rune('a'+n)), l)
		if err != nil {
			t.Fatal(err)
		}
		return kv
	}
	be := backend{name: "object", kv: newKV, advance: advance}
	t.Run("KV", func(t *testing.T) { testKV(t, be) })
	t.Run("KVLimits", func(t *testing.T) { testKVLimits(t, be) })
	t.Run("KVExpiry", func(t *testing.T) { testKVExpiry(t, be) })

	ctx := context.Background()
	limits := Limits{TTL: time.Hour, MaxKeyBytes: 64, MaxValueBytes: 16 << 20}
	kv, err := o.KV("keys", limits)
	if err != nil {
		t.Fatal(err)
	}
	v1 := bytes.Repeat([]byte("evaluation key v1 "), 40_000) // 720 kB, an N=4096 key's size
	if err := kv.Put(ctx, []byte("device-1"), v1); err != nil {
		t.Fatal(err)
	}

	t.Run("ReadAfterRestart", func(t *testing.T) {
		srv.Kill()
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
		// A new store, as a restarted service builds.
		kv2, err := NewObject(srv.Client(t), "test/").KV("keys", limits)
		if err != nil {
			t.Fatal(err)
		}
		got, err := kv2.Get(ctx, []byte("device-1"))
		if err != nil || !bytes.Equal(got, v1) {
			t.Fatalf("after restart: %d bytes, %v; want the %d bytes stored", len(got), err, len(v1))
		}
	})

	t.Run("TornObjectReadsAsAbsent", func(t *testing.T) {
		raw := srv.Client(t)
		whole := frame(v1, 0)
		name := kv.objectName([]byte("torn"))
		for _, bad := range [][]byte{whole[:len(whole)/2], whole[:objectHeaderBytes-1], []byte("not a frame"),
			append(append([]byte{}, whole[:len(whole)-1]...), whole[len(whole)-1]^1)} {
			if err := raw.Put(ctx, name, bad); err != nil {
				t.Fatal(err)
			}
			if got, err := kv.Get(ctx, []byte("torn")); !errors.Is(err, ErrNotFound) {
				t.Fatalf("a damaged object of %d bytes read as %d bytes, %v; want ErrNotFound", len(bad), len(got), err)
			}
		}
	})

	t.Run("KilledMidUpload", func(t *testing.T) {
		// A transport that feeds the body slowly, so the kill lands while
		// the object is in flight.
		started := make(chan struct{}, 1)
		cfg := srv.Config()
		cfg.Transport = slowBody{started: started}
		slow, err := s3.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		skv, err := NewObject(slow, "test/").KV("keys", limits)
		if err != nil {
			t.Fatal(err)
		}
		v2 := bytes.Repeat([]byte("evaluation key v2 "), 400_000) // 7.2 MB
		done := make(chan error, 1)
		go func() { done <- skv.Put(ctx, []byte("device-1"), v2) }()
		<-started
		time.Sleep(300 * time.Millisecond)
		srv.Kill()
		if err := <-done; err == nil {
			t.Fatal("an upload cut by the server's death reported success")
		} else if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("cut upload: %v, want ErrUnavailable", err)
		}
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
		got, err := kv.Get(ctx, []byte("device-1"))
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			t.Fatal(err)
		case !bytes.Equal(got, v1):
			t.Fatalf("after a cut upload Get returned %d bytes that are neither the old key nor absent", len(got))
		}
		// The device uploads again; now the new key is read whole.
		if err := kv.Put(ctx, []byte("device-1"), v2); err != nil {
			t.Fatal(err)
		}
		if got, err := kv.Get(ctx, []byte("device-1")); err != nil || !bytes.Equal(got, v2) {
			t.Fatalf("re-upload: %d bytes, %v", len(got), err)
		}
	})

	t.Run("GetIfChanged", func(t *testing.T) {
		// The version from a full read revalidates (304: ErrUnchanged)
		// until the object is replaced, expires or goes; a replaced
		// object is returned whole with a new version.
		vkv, err := o.KV("versioned", limits)
		if err != nil {
			t.Fatal(err)
		}
		dev := []byte("device-v")
		if err := vkv.Put(ctx, dev, v1); err != nil {
			t.Fatal(err)
		}
		got, ver, err := vkv.GetIfChanged(ctx, dev, "")
		if err != nil || !bytes.Equal(got, v1) || ver == "" {
			t.Fatalf("unconditional read: %d bytes, version %q, %v", len(got), ver, err)
		}
		if got, ver2, err := vkv.GetIfChanged(ctx, dev, ver); !errors.Is(err, ErrUnchanged) || got != nil || ver2 != ver {
			t.Fatalf("revalidation of an unchanged object: %d bytes, version %q, %v; want ErrUnchanged", len(got), ver2, err)
		}
		v3 := append(append([]byte{}, v1...), '!')
		if err := vkv.Put(ctx, dev, v3); err != nil {
			t.Fatal(err)
		}
		got, ver3, err := vkv.GetIfChanged(ctx, dev, ver)
		if err != nil || !bytes.Equal(got, v3) || ver3 == ver {
			t.Fatalf("revalidation of a replaced object: %d bytes, version %q (old %q), %v; want the new object", len(got), ver3, ver, err)
		}
		advance(2 * time.Hour) // past the TTL: a 304 must not revive it
		if _, _, err := vkv.GetIfChanged(ctx, dev, ver3); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revalidation of an expired object: %v, want ErrNotFound", err)
		}
		advance(-2 * time.Hour)
		if err := vkv.Delete(ctx, dev); err != nil {
			t.Fatal(err)
		}
		if _, _, err := vkv.GetIfChanged(ctx, dev, ver3); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revalidation of a deleted object: %v, want ErrNotFound", err)
		}
		if _, _, err := vkv.GetIfChanged(ctx, dev, "no-slash"); err == nil {
			t.Fatal("a malformed version was accepted")
		}
	})

	t.Run("ServerDown", func(t *testing.T) {
		srv.Kill()
		if _, err := kv.Get(ctx, []byte("device-1")); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("Get with the server down = %v, want ErrUnavailable", err)
		}
		if err := kv.Put(ctx, []byte("device-2"), []byte("k")); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Put with the server down = %v, want ErrUnavailable", err)
		}
		if err := o.Check(ctx); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Check with the server down = %v, want ErrUnavailable", err)
		}
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
		if err := kv.Put(ctx, []byte("device-2"), []byte("k")); err != nil {
			t.Errorf("Put after recovery: %v", err)
		}
		if err := o.Check(ctx); err != nil {
			t.Errorf("Check after recovery: %v", err)
		}
	})
}

// slowBody is a transport whose request bodies arrive 64 KiB every 20 ms.
type slowBody struct{ started chan struct{} }

func (s slowBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.ContentLength > 1<<20 {
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(&slowReader{r: req.Body, started: s.started})
	}
	return http.DefaultTransport.RoundTrip(req)
}

type slowReader struct {
	r       io.Reader
	started chan struct{}
	once    bool
}

func (s *slowReader) Read(p []byte) (int, error) {
	if !s.once {
		s.once = true
		s.started <- struct{}{}
	}
	time.Sleep(20 * time.Millisecond)
	return s.r.Read(p[:min(len(p), 64<<10)])
}

func TestFrame(t *testing.T) {
	for _, payload := range [][]byte{nil, []byte("k"), bytes.Repeat([]byte{7}, 1000)} {
		b := frame(payload, 42)
		got, exp, err := unframe(b)
		if err != nil || !bytes.Equal(got, payload) || exp != 42 {
			t.Errorf("unframe(frame(%d bytes)) = %d bytes, %d, %v", len(payload), len(got), exp, err)
		}
		for i := range b { // every single-byte change is caught
			c := bytes.Clone(b)
			c[i] ^= 0x80
			if _, _, err := unframe(c); err == nil {
				t.Fatalf("byte %d flipped, frame still accepted", i)
			}
		}
		if _, _, err := unframe(b[:len(b)-1]); err == nil && len(payload) > 0 {
			t.Errorf("a frame one byte short accepted")
		}
	}
	if !strings.HasPrefix(string(frame(nil, 0)), objectMagic) {
		t.Error("frame lacks its magic")
	}
}
