package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/blindlist/blindlist/generation"
)

// PrefilterConfig configures the prefilter endpoint of `serve`:
//
//	GET /prefilter/{usecase}             JSON metadata of the prefilter to use
//	GET /prefilter/{usecase}/{tag}.bin   its raw bits (NEURLFilterPrefilter data)
//
// It serves the usecases whose directory is laid out in generations
// ('blindlist build'). No Privacy Pass: the prefilter is the same for every
// device and can be cached by a CDN.
type PrefilterConfig struct {
	// CacheControl is the metadata's Cache-Control. Default
	// "public, max-age=300": devices and CDNs see a new prefilter within
	// minutes. The bits are immutable (their URL names their SHA-256) and
	// always cached for a year.
	CacheControl string `json:"cacheControl,omitempty"`
	// BearerTokenFile, if set, holds a token the requests must present as
	// "Authorization: Bearer <token>" (first line of the file, read at start
	// and on reload). Relative to the configuration file.
	BearerTokenFile string `json:"bearerTokenFile,omitempty"`
}

// DefaultPrefilterCacheControl is the metadata's default Cache-Control.
const DefaultPrefilterCacheControl = "public, max-age=300"

// bitsCacheControl is the Cache-Control of the immutable bits.
const bitsCacheControl = "public, max-age=31536000, immutable"

// PrefilterMetadata is the JSON body of GET /prefilter/{usecase}.
type PrefilterMetadata struct {
	// Tag is the hex SHA-256 of the bits (also the ETag).
	Tag       string `json:"tag"`
	BitCount  uint32 `json:"bit_count"`
	HashCount uint32 `json:"hash_count"`
	// MurmurSeed is the seed of the Murmur3 hash.
	MurmurSeed uint32 `json:"murmur_seed"`
	KeyCount   int    `json:"key_count"`
	// Generation is the id of the build the prefilter belongs to; Created
	// when it was published (RFC 3339).
	Generation string `json:"generation"`
	Created    string `json:"created"`
	// BitsURL is the path of the raw bits, relative to the service.
	BitsURL string `json:"bits_url"`
}

// ServedGenerations returns, for a usecase, the generation ids served by
// every ready replica (this one included). Prefilters offers the newest
// kept generation whose keys every one of them answers.
type ServedGenerations func(ctx context.Context, usecase string) ([]string, error)

// Prefilters serves the prefilter endpoint.
type Prefilters struct {
	cacheControl string
	token        atomic.Pointer[[]byte] // nil or empty: no token required
	roots        atomic.Pointer[map[string]string]
	served       ServedGenerations
	log          *slog.Logger

	mu     sync.Mutex
	subset map[[2]string]bool // {root/G, root/S}: keys(G) ⊆ keys(S)
	bits   map[string]*bitsEntry
}

type bitsEntry struct {
	raw, gz []byte
}

// NewPrefilters returns the endpoint. served says which generations the
// replicas serve; log receives one line per refused request cause that is
// not the client's (never request data).
func NewPrefilters(cfg PrefilterConfig, served ServedGenerations, log *slog.Logger) (*Prefilters, error) {
	if served == nil {
		return nil, errors.New("api: prefilters: ServedGenerations is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Prefilters{cacheControl: cfg.CacheControl, served: served, log: log,
		subset: map[[2]string]bool{}, bits: map[string]*bitsEntry{}}
	if p.cacheControl == "" {
		p.cacheControl = DefaultPrefilterCacheControl
	}
	if err := p.Configure(cfg, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// Configure reads the bearer token file and, if roots is not nil, sets the
// usecases served: name -> directory laid out in generations.
func (p *Prefilters) Configure(cfg PrefilterConfig, roots map[string]string) error {
	var tok []byte
	if cfg.BearerTokenFile != "" {
		b, err := os.ReadFile(cfg.BearerTokenFile)
		if err != nil {
			return fmt.Errorf("api: prefilter bearer token: %w", err)
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		if tok = bytes.TrimSpace(line); len(tok) == 0 {
			return fmt.Errorf("api: prefilter bearer token: %s is empty", cfg.BearerTokenFile)
		}
	}
	p.token.Store(&tok)
	if roots != nil {
		r := maps.Clone(roots)
		p.roots.Store(&r)
	}
	return nil
}

// PrefilterRoots returns the usecases of fc whose directory is laid out in
// generations: name -> directory.
func PrefilterRoots(fc *FileConfig) map[string]string {
	roots := map[string]string{}
	for _, v := range fc.Vendors {
		for _, uc := range v.Usecases {
			if generation.IsRoot(uc.Directory) {
				roots[uc.Name] = uc.Directory
			}
		}
	}
	return roots
}

// Handler returns the routes: GET /prefilter/{usecase} and
// GET /prefilter/{usecase}/{tag}.bin.
func (p *Prefilters) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /prefilter/{usecase}", p.metadata)
	mux.HandleFunc("GET /prefilter/{usecase}/{file}", p.bitsFile)
	return mux
}

// authorized checks the bearer token in constant time.
func (p *Prefilters) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok := *p.token.Load()
	if len(tok) == 0 {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && subtle.ConstantTimeCompare([]byte(got), tok) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="prefilter"`)
	http.Error(w, "bearer token required", http.StatusUnauthorized)
	return false
}

func (p *Prefilters) root(w http.ResponseWriter, usecase string) (string, bool) {
	if roots := p.roots.Load(); roots != nil {
		if root, ok := (*roots)[usecase]; ok {
			return root, true
		}
	}
	http.Error(w, "no prefilter for this usecase", http.StatusNotFound)
	return "", false
}

func (p *Prefilters) metadata(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(w, r) {
		return
	}
	usecase := r.PathValue("usecase")
	root, ok := p.root(w, usecase)
	if !ok {
		return
	}
	m, err := p.Offered(r.Context(), usecase, root)
	if err != nil {
		p.log.Error("prefilter: no generation to offer", "usecase", usecase, "error", err.Error())
		w.Header().Set("Retry-After", "10")
		http.Error(w, "no prefilter available yet", http.StatusServiceUnavailable)
		return
	}
	md := PrefilterMetadata{
		Tag: m.Prefilter.Tag, BitCount: m.Prefilter.BitCount, HashCount: m.Prefilter.HashCount,
		MurmurSeed: m.Prefilter.MurmurSeed, KeyCount: m.Prefilter.Items, Generation: m.ID, Created: m.Created,
		BitsURL: "/prefilter/" + usecase + "/" + m.Prefilter.Tag + ".bin",
	}
	etag := `"` + md.Tag + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", p.cacheControl)
	if etagMatches(r.Header.Get("If-None-Match"), md.Tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, _ := json.Marshal(md)
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(body, '\n'))
}

// etagMatches reports whether an If-None-Match header names tag (strong or
// weak) or is "*".
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == `"`+tag+`"` {
			return true
		}
	}
	return false
}

// Offered returns the manifest of the generation whose prefilter devices
// should use: the newest kept generation whose keys are all answered by
// every generation the replicas serve (client-spec §7: a key must be
// answerable by PIR before a prefilter containing it reaches devices;
// removals need no wait, since a prefilter without a key only skips a
// lookup).
func (p *Prefilters) Offered(ctx context.Context, usecase, root string) (*generation.GenerationManifest, error) {
	served, err := p.served(ctx, usecase)
	if err != nil {
		return nil, err
	}
	if len(served) == 0 {
		return nil, errors.New("no replica serves a generation yet")
	}
	list, err := generation.List(root)
	if err != nil {
		return nil, err
	}
	for i := len(list) - 1; i >= 0; i-- {
		g := &list[i]
		if g.Prefilter.Tag == "" {
			continue
		}
		ok := true
		for _, s := range served {
			if !p.keysSubset(root, g.ID, s) {
				ok = false
				break
			}
		}
		if ok {
			return g, nil
		}
	}
	return nil, fmt.Errorf("no kept generation's keys are answered by every replica (serving %s)", strings.Join(served, ", "))
}

// keysSubset reports whether every key of generation g is a key of
// generation s (both sorted keys.txt files, one merge pass, cached: the
// generations are immutable).
func (p *Prefilters) keysSubset(root, g, s string) bool {
	if g == s {
		return true
	}
	k := [2]string{filepath.Join(root, g), filepath.Join(root, s)}
	p.mu.Lock()
	v, ok := p.subset[k]
	p.mu.Unlock()
	if ok {
		return v
	}
	v = sortedSubset(filepath.Join(root, generation.GenerationsDir, g, generation.KeysFile),
		filepath.Join(root, generation.GenerationsDir, s, generation.KeysFile))
	p.mu.Lock()
	if len(p.subset) > 1024 {
		clear(p.subset)
	}
	p.subset[k] = v
	p.mu.Unlock()
	return v
}

// sortedSubset reports whether every line of the sorted file a is a line
// of the sorted file b; false when either cannot be read.
func sortedSubset(a, b string) bool {
	fa, err := os.Open(a)
	if err != nil {
		return false
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false
	}
	defer fb.Close()
	sa, sb := bufio.NewScanner(fa), bufio.NewScanner(fb)
	sa.Buffer(nil, 1<<20)
	sb.Buffer(nil, 1<<20)
	haveB := sb.Scan()
	for sa.Scan() {
		ka := sa.Text()
		for haveB && sb.Text() < ka {
			haveB = sb.Scan()
		}
		if !haveB || sb.Text() != ka {
			return false
		}
	}
	return sa.Err() == nil && sb.Err() == nil
}

// bitsFile serves /prefilter/{usecase}/{tag}.bin from any kept generation,
// after checking the bits hash to the tag.
func (p *Prefilters) bitsFile(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(w, r) {
		return
	}
	root, ok := p.root(w, r.PathValue("usecase"))
	if !ok {
		return
	}
	tag, ok := strings.CutSuffix(r.PathValue("file"), ".bin")
	if !ok || len(tag) != 64 || strings.Trim(tag, "0123456789abcdef") != "" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	e, err := p.loadBits(root, tag)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("ETag", `"`+tag+`"`)
	h.Set("Cache-Control", bitsCacheControl)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Content-Type", "application/octet-stream")
	if etagMatches(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := e.raw
	if acceptsGzip(r.Header) {
		h.Set("Content-Encoding", "gzip")
		body = e.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.Write(body)
}

// loadBits finds the kept generation whose prefilter has this tag, reads
// its bits, checks their SHA-256 and caches them with their gzip form.
func (p *Prefilters) loadBits(root, tag string) (*bitsEntry, error) {
	key := root + "\x00" + tag
	p.mu.Lock()
	e := p.bits[key]
	p.mu.Unlock()
	if e != nil {
		return e, nil
	}
	list, err := generation.List(root)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(m generation.GenerationManifest) bool { return m.Prefilter.Tag == tag })
	if i < 0 {
		return nil, errors.New("no kept generation has this prefilter")
	}
	raw, err := os.ReadFile(filepath.Join(root, generation.GenerationsDir, list[i].ID, "prefilter.bin"))
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != tag {
		p.log.Error("prefilter: bits do not hash to their tag; not served", "generation", list[i].ID)
		return nil, errors.New("bits do not match the tag")
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	e = &bitsEntry{raw: raw, gz: gz.Bytes()}
	p.mu.Lock()
	if len(p.bits) >= 2*generation.DefaultKeep {
		clear(p.bits)
	}
	p.bits[key] = e
	p.mu.Unlock()
	return e, nil
}
