package generation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/internal/atomicfile"
)

// Refresh state kept in the root: the last good copy of every http(s)
// source and its validators.
const (
	// SourcesDir holds the last good copy of each http(s) source.
	SourcesDir = "sources"
	// RefreshStateFile records, per source URL, its ETag, Last-Modified,
	// cached copy and size.
	RefreshStateFile = "refresh-state.json"
	// DefaultMaxShrink is the fraction by which a source may shrink
	// between two fetches before the refresh is refused.
	DefaultMaxShrink = 0.5
)

// ErrRefused is returned (wrapped) when a refresh is refused: a source
// came back empty or shrank by more than RefreshConfig.MaxShrink. The
// current generation stays published.
var ErrRefused = errors.New("generation: refresh refused")

// RefreshConfig is one refresh of a root: refetch its http(s) sources with
// conditional requests and, when one changed, build and publish a new
// generation.
type RefreshConfig struct {
	// Build is the build configuration. Its PIR settings and tolerance,
	// when zero, are taken from the current generation, so the new one
	// reuses its shards and keeps its configuration where the keys fit.
	Build Config
	// MaxShrink is the fraction (0..1) by which a source's body may shrink
	// since its last good fetch; more, or an empty body, refuses the
	// refresh. Zero: DefaultMaxShrink.
	MaxShrink float64
	// Force accepts a shrunk or empty source (an operator's decision).
	Force bool
	// Client fetches the sources; nil: a client with a 5-minute timeout.
	Client *http.Client
}

// RefreshResult says what a refresh did.
type RefreshResult struct {
	// Fetched counts sources downloaded anew; NotModified those the origin
	// answered 304 (or with the same bytes).
	Fetched, NotModified int
	// Published is the new generation, nil when nothing changed.
	Published *Generation
}

// sourceState is one source's entry in RefreshStateFile.
type sourceState struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	File         string `json:"file"`
	Bytes        int64  `json:"bytes"`
	SHA256       string `json:"sha256"`
	Fetched      string `json:"fetched"`
}

// Refresh refetches the http(s) sources of rc.Build (block and allow)
// with If-None-Match / If-Modified-Since, and builds and publishes a new
// generation into root only when one of them changed (or root has none
// yet). A failed fetch, a refused source or a failed build leaves the
// current generation published and the last good copies in place. Local
// sources are read as they are at each refresh but do not by themselves
// trigger a rebuild.
func Refresh(ctx context.Context, root string, rc RefreshConfig) (*RefreshResult, error) {
	if rc.MaxShrink == 0 {
		rc.MaxShrink = DefaultMaxShrink
	}
	if rc.MaxShrink < 0 || rc.MaxShrink > 1 {
		return nil, fmt.Errorf("generation: max shrink %v: want 0 to 1", rc.MaxShrink)
	}
	client := rc.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	if err := os.MkdirAll(filepath.Join(root, SourcesDir), 0o755); err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	state := map[string]sourceState{}
	if raw, err := os.ReadFile(filepath.Join(root, RefreshStateFile)); err == nil {
		if err := json.Unmarshal(raw, &state); err != nil {
			return nil, fmt.Errorf("generation: %s is unreadable: %w", RefreshStateFile, err)
		}
	}
	res := &RefreshResult{}
	changed := false
	next := map[string]sourceState{}
	var staged []string // new bodies, renamed over the last good copies only on success
	defer func() {
		for _, p := range staged {
			os.Remove(p)
		}
	}()
	c := rc.Build
	for _, list := range []*[]blocklist.Source{&c.Block, &c.Allow} {
		srcs := append([]blocklist.Source(nil), (*list)...)
		for i, src := range srcs {
			if !isHTTP(src.Location) || src.Data != nil {
				continue
			}
			st, tmp, err := fetchSource(ctx, client, root, src.Location, state[src.Location], rc)
			if err != nil {
				return res, err
			}
			if tmp != "" {
				staged = append(staged, tmp)
				res.Fetched++
				changed = true
			} else {
				res.NotModified++
			}
			next[src.Location] = st
			local := filepath.Join(root, SourcesDir, st.File)
			if tmp != "" {
				local = tmp
			}
			srcs[i].Location = local
		}
		*list = srcs
	}
	if _, err := CurrentID(root); err == nil && !changed {
		return res, nil
	}
	c.inherit(root)
	if c.Tolerance == 0 {
		c.Tolerance = 0.001
	}
	r, err := Build(ctx, root, c)
	if err != nil {
		return res, err
	}
	res.Published = r.Generation
	// The build used the staged bodies: they become the last good copies.
	for loc, st := range next {
		if tmp := filepath.Join(root, SourcesDir, ".new-"+st.File); fileExists(tmp) {
			if err := os.Rename(tmp, filepath.Join(root, SourcesDir, st.File)); err != nil {
				return res, fmt.Errorf("generation: keeping %s: %w", redactURL(loc), err)
			}
		}
	}
	staged = nil
	mj, _ := json.MarshalIndent(next, "", "  ")
	if err := atomicfile.WriteBytes(filepath.Join(root, RefreshStateFile), outputFileMode, append(mj, '\n')); err != nil {
		return res, fmt.Errorf("generation: %w", err)
	}
	return res, nil
}

// inherit fills the zero PIR settings and tolerance of c from the current
// generation of root, so a refresh keeps its shard layout.
func (c *Config) inherit(root string) {
	g, err := Open(root)
	if err != nil {
		return // no (readable) current generation: c as given
	}
	m := g.Manifest
	if c.Tolerance == 0 {
		var bm Manifest
		if raw, err := os.ReadFile(filepath.Join(g.Dir, ManifestFile)); err == nil && json.Unmarshal(raw, &bm) == nil {
			c.Tolerance = bm.Sizing.Tolerance
			c.Compile.KeepCovered = c.Compile.KeepCovered || bm.KeepCovered
		}
	}
	if m.ShardCount == 0 {
		c.PIR.Disabled = c.PIR.Disabled || c.PIR == (PIRConfig{})
		return
	}
	if c.PIR.Shards == 0 {
		c.PIR.Shards = m.ShardCount
	}
	if s := m.Settings; s != nil {
		if c.PIR.Preset == "" {
			c.PIR.Preset = s.Preset
		}
		if c.PIR.HashFunctions == 0 {
			c.PIR.HashFunctions = s.HashFunctions
		}
		if c.PIR.Stem == "" {
			c.PIR.Stem = s.Stem
		}
	}
}

// fetchSource fetches one source conditionally. It returns the source's
// new state and, when the body changed, the staged file holding it (""
// when the origin answered 304 or sent the same bytes).
func fetchSource(ctx context.Context, client *http.Client, root, loc string, prev sourceState, rc RefreshConfig) (sourceState, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return prev, "", fmt.Errorf("generation: source %s: %w", redactURL(loc), err)
	}
	cached := prev.File != "" && fileExists(filepath.Join(root, SourcesDir, prev.File))
	if cached {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	req.Header.Set("User-Agent", "blindlist-refresh")
	resp, err := client.Do(req)
	if err != nil {
		return prev, "", fmt.Errorf("generation: fetching %s: %w", redactURL(loc), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && cached {
		return prev, "", nil
	}
	if resp.StatusCode != http.StatusOK {
		return prev, "", fmt.Errorf("generation: fetching %s: %s", redactURL(loc), resp.Status)
	}
	name := sourceFileName(loc)
	tmp := filepath.Join(root, SourcesDir, ".new-"+name)
	h := sha256.New()
	var n int64
	maxBytes := rc.Build.Compile.MaxBytes
	if maxBytes <= 0 {
		maxBytes = blocklist.DefaultMaxBytes
	}
	err = atomicfile.WriteFile(tmp, outputFileMode, func(w io.Writer) error {
		n, err = io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, maxBytes+1))
		if err == nil && n > maxBytes {
			err = fmt.Errorf("larger than %d bytes", maxBytes)
		}
		return err
	})
	if err != nil {
		os.Remove(tmp)
		return prev, "", fmt.Errorf("generation: fetching %s: %w", redactURL(loc), err)
	}
	st := sourceState{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), File: name,
		Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil)), Fetched: time.Now().UTC().Format(time.RFC3339)}
	if cached && st.SHA256 == prev.SHA256 {
		os.Remove(tmp)
		return st, "", nil
	}
	if !rc.Force {
		if n == 0 {
			os.Remove(tmp)
			return prev, "", fmt.Errorf("%w: %s came back empty (force to accept)", ErrRefused, redactURL(loc))
		}
		if cached && float64(n) < (1-rc.MaxShrink)*float64(prev.Bytes) {
			os.Remove(tmp)
			return prev, "", fmt.Errorf("%w: %s shrank from %d to %d bytes, more than %.0f%% (force to accept)",
				ErrRefused, redactURL(loc), prev.Bytes, n, 100*rc.MaxShrink)
		}
	}
	return st, tmp, nil
}

// sourceFileName names the cached copy of a source: a digest of the URL
// and the URL's base name, whose suffix (.csv, .tar.gz) the parsers use.
func sourceFileName(loc string) string {
	sum := sha256.Sum256([]byte(loc))
	base := "source"
	if u, err := url.Parse(loc); err == nil {
		if b := path.Base(u.Path); b != "" && b != "/" && b != "." {
			base = strings.Map(func(r rune) rune {
				if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
					return r
				}
				return '_'
			}, b)
		}
	}
	return hex.EncodeToString(sum[:8]) + "-" + base
}

// redactURL drops the query and user info of a source URL for messages
// (list URLs may carry access keys).
func redactURL(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "source"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

func isHTTP(loc string) bool {
	return strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://")
}
