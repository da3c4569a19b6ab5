package api

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// scrape reads reg through the Prometheus text exposition, as /metrics
// serves it, and returns each sample by its name and labels as written
// (`blindlist_api_key_cache_lookups_total{result="hit"}`).
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	samples := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

// keyCacheDevices is a loopback server over Apple's set A with the given
// configuration, and n devices that have each uploaded set A's key with
// their own metadata timestamp: distinct serialized keys, so distinct
// cache entries (the cache is addressed by content), of equal size.
type keyCacheDevices struct {
	e       *testEnv
	metrics *prometheus.Registry
	users   []string
	query   []byte // one request of set A
	keySize int64  // ParsedKeyBytes of set A's key
}

func newKeyCacheDevices(t *testing.T, cfg Config, n int) *keyCacheDevices {
	t.Helper()
	u := openSet(t, "A", 1)
	reg := &Registry{}
	if err := reg.Replace([]Entry{{Name: testUsecase, Vendor: "example", VersionCount: 2, Usecase: u}}); err != nil {
		t.Fatal(err)
	}
	d := &keyCacheDevices{metrics: prometheus.NewRegistry(), keySize: ParsedKeyBytes(u.KeyConfig())}
	d.e = newEnv(t, envOptions{reg: reg, cfg: cfg, metrics: d.metrics})

	var keys apipb.EvaluationKeys
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), &keys); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		user := fmt.Sprintf("3F2504E0-4F89-11D3-9A0C-0305E82C33%02d", i)
		keys.GetKeys()[0].GetMetadata().Timestamp = uint64(1_750_000_000 + i)
		body, err := proto.Marshal(&keys)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, b := d.e.post("/key", body, map[string]string{"User-Identifier": user}); code != http.StatusOK {
			t.Fatalf("/key for device %d: %d %s", i, code, b)
		}
		d.users = append(d.users, user)
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
		t.Fatal(err)
	}
	reqs.Requests = reqs.GetRequests()[:1]
	var err error
	if d.query, err = proto.Marshal(&reqs); err != nil {
		t.Fatal(err)
	}
	return d
}

// ask sends device i's query and checks it is answered.
func (d *keyCacheDevices) ask(t *testing.T, i int) {
	t.Helper()
	code, _, body := d.e.post("/queries", d.query, map[string]string{"User-Identifier": d.users[i]})
	if code != http.StatusOK {
		t.Fatalf("/queries for device %d: %d %s", i, code, body)
	}
}

// cacheState is what the key cache's metrics say.
type cacheState struct {
	hits, misses, evictBytes, evictEntries, tooLarge float64
	entries, bytes, limit                            float64
}

func (d *keyCacheDevices) state(t *testing.T) cacheState {
	t.Helper()
	m := scrape(t, d.metrics)
	const p = "blindlist_api_key_cache_"
	got := cacheState{
		hits:         m[p+`lookups_total{result="hit"}`],
		misses:       m[p+`lookups_total{result="miss"}`],
		evictBytes:   m[p+`evictions_total{bound="bytes"}`],
		evictEntries: m[p+`evictions_total{bound="entries"}`],
		tooLarge:     m[p+"too_large_total"],
		entries:      m[p+"entries"],
		bytes:        m[p+"bytes"],
		limit:        m[p+"limit_bytes"],
	}
	if float64(d.e.s.keys.len()) != got.entries || float64(d.e.s.keys.size()) != got.bytes {
		t.Errorf("cache holds %d keys, %d bytes; metrics say %v, %v", d.e.s.keys.len(), d.e.s.keys.size(), got.entries, got.bytes)
	}
	return got
}

// TestKeyCacheEvictsByBytes: with a budget of 2.5 parsed keys, three
// devices' keys (real uploads, parsed by real queries) keep at most two in
// the cache, evicting the least recently used by bytes; an evicted device
// is answered by parsing its key again. Metrics follow, and carry no user
// identifier.
func TestKeyCacheEvictsByBytes(t *testing.T) {
	u := openSet(t, "A", 1)
	size := ParsedKeyBytes(u.KeyConfig())
	budget := 2*size + size/2
	d := newKeyCacheDevices(t, Config{Limits: LimitsConfig{KeyCacheBytes: budget}}, 3)
	steps := []struct {
		device int
		want   cacheState // counters after the call; entries, bytes and limit filled below
	}{
		{0, cacheState{misses: 1}},
		{1, cacheState{misses: 2}},
		{0, cacheState{hits: 1, misses: 2}},                // device 0 is now the most recent
		{2, cacheState{hits: 1, misses: 3, evictBytes: 1}}, // evicts device 1
		{0, cacheState{hits: 2, misses: 3, evictBytes: 1}},
		{1, cacheState{hits: 2, misses: 4, evictBytes: 2}}, // parsed again, evicts device 2
		{2, cacheState{hits: 2, misses: 5, evictBytes: 3}}, // evicts device 0
		{1, cacheState{hits: 3, misses: 5, evictBytes: 3}},
	}
	for i, s := range steps {
		d.ask(t, s.device)
		want := s.want
		want.entries = min(want.misses, 2)
		want.bytes = want.entries * float64(size)
		want.limit = float64(budget)
		if got := d.state(t); got != want {
			t.Fatalf("step %d (device %d): cache %+v, want %+v", i, s.device, got, want)
		}
	}
	var text bytes.Buffer
	for name := range scrape(t, d.metrics) {
		text.WriteString(name)
	}
	for _, user := range d.users {
		if strings.Contains(text.String(), user) {
			t.Errorf("metrics carry a User-Identifier")
		}
	}
}

// TestKeyCacheEntryCap: the entry count is a second bound; evictions it
// causes are labelled "entries".
func TestKeyCacheEntryCap(t *testing.T) {
	d := newKeyCacheDevices(t, Config{KeyCacheSize: 1}, 2)
	for _, i := range []int{0, 1, 0} {
		d.ask(t, i)
	}
	want := cacheState{misses: 3, evictEntries: 2, entries: 1, bytes: float64(d.keySize), limit: DefaultKeyCacheBytes}
	if got := d.state(t); got != want {
		t.Errorf("cache %+v, want %+v", got, want)
	}
}

// TestKeyCacheTooLargeOrOff: a key larger than the whole budget is used
// but never cached, and evicts nothing; with the cache off (-1) every call
// parses its key. Both answer every call.
func TestKeyCacheTooLargeOrOff(t *testing.T) {
	small := newKeyCacheDevices(t, Config{Limits: LimitsConfig{KeyCacheBytes: MinKeyCacheBytes}}, 2)
	if small.keySize <= MinKeyCacheBytes {
		t.Fatalf("set A key estimated at %d bytes, not over the %d budget", small.keySize, MinKeyCacheBytes)
	}
	for _, i := range []int{0, 1, 0} {
		small.ask(t, i)
	}
	if got, want := small.state(t), (cacheState{misses: 3, tooLarge: 3, limit: MinKeyCacheBytes}); got != want {
		t.Errorf("budget below one key: cache %+v, want %+v", got, want)
	}

	off := newKeyCacheDevices(t, Config{Limits: LimitsConfig{KeyCacheBytes: -1}}, 1)
	off.ask(t, 0)
	off.ask(t, 0)
	if got, want := off.state(t), (cacheState{misses: 2}); got != want {
		t.Errorf("cache off: %+v, want %+v", got, want)
	}
	if off.e.s.KeyCacheBytes() != 0 {
		t.Errorf("KeyCacheBytes %d with the cache off, want 0", off.e.s.KeyCacheBytes())
	}
}

// TestKeyCachePutTwice: two calls that parsed the same key at once put it
// twice; it is counted once.
func TestKeyCachePutTwice(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	c := newKeyCache(4, 100, m.keyCache)
	id := newKeyCacheID([]byte("key"), []byte("config"))
	first, second := new(pir.EvaluationKey), new(pir.EvaluationKey)
	c.put(id, first, 40)
	c.put(id, second, 40)
	if got, ok := c.get(id); !ok || got != first || c.len() != 1 || c.size() != 40 {
		t.Errorf("after two puts: first kept %v, %d entries, %d bytes; want true, 1, 40", got == first, c.len(), c.size())
	}
}
