package blocklist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// syntheticList returns an n-line list in the given style from a fixed
// seed: hosts lines with several names, www. and mixed case, children of
// other entries, URLs with ports, paths, queries and fragments, ABP rules
// with and without modifiers, IDNs, comments and invalid lines, with
// duplicates throughout. The same (n, style, seed) always gives the same
// bytes.
func syntheticList(n int, style string, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	name := func() string {
		tlds := []string{"com", "net", "org", "example", "co.uk", "io"}
		return fmt.Sprintf("%s%d.%s", []string{"ads", "cdn", "track", "pixel", "m"}[r.IntN(5)], r.IntN(n/4+1), tlds[r.IntN(len(tlds))])
	}
	var b strings.Builder
	for range n {
		h := name()
		switch r.IntN(4) {
		case 0:
			h = "sub" + fmt.Sprint(r.IntN(9)) + "." + h
		case 1:
			h = "www." + h
		}
		if r.IntN(7) == 0 {
			h = strings.ToUpper(h[:3]) + h[3:]
		}
		switch style {
		case "hosts":
			switch r.IntN(20) {
			case 0:
				b.WriteString("# comment line\n")
			case 1:
				fmt.Fprintf(&b, "127.0.0.1 localhost %s\n", h)
			case 2:
				fmt.Fprintf(&b, "0.0.0.0 %s %s # two names\n", h, name())
			case 3:
				fmt.Fprintf(&b, "0.0.0.0 bücher%d.example\n", r.IntN(50))
			case 4:
				fmt.Fprintf(&b, "0.0.0.0 bad_%d!.example\n", r.IntN(50))
			default:
				fmt.Fprintf(&b, "0.0.0.0 %s\n", h)
			}
		case "urls":
			switch r.IntN(8) {
			case 0:
				fmt.Fprintf(&b, "https://%s/\n", h)
			case 1:
				fmt.Fprintf(&b, "http://%s:8080/a/%d\n", h, r.IntN(5))
			case 2:
				fmt.Fprintf(&b, "https://%s/p%d/x?q=%d#F%d\n", h, r.IntN(5), r.IntN(3), r.IntN(3))
			case 3:
				fmt.Fprintf(&b, "%s/a//b/./c/\n", h)
			case 4:
				fmt.Fprintf(&b, "ftp://%s/x\n", h)
			default:
				fmt.Fprintf(&b, "%s/Path%d\n", h, r.IntN(20))
			}
		case "abp":
			switch r.IntN(10) {
			case 0:
				fmt.Fprintf(&b, "@@||%s^\n", h)
			case 1:
				fmt.Fprintf(&b, "||%s^$third-party\n", h)
			case 2:
				fmt.Fprintf(&b, "%s##.ad\n", h)
			case 3:
				fmt.Fprintf(&b, "||%s/ads^$important\n", h)
			default:
				fmt.Fprintf(&b, "||%s^\n", h)
			}
		}
	}
	return []byte(b.String())
}

// TestCompileDigest guards the compiler's output against drift: a fixed
// synthetic corpus in three formats plus an allow list compiles to keys and
// the whole report (counts, examples, problems, conflicts) whose SHA-256
// is pinned. Performance work must not change
// it; a deliberate normalisation change updates the digest with a reason in
// the commit message.
func TestCompileDigest(t *testing.T) {
	const n = 20000
	const want = "2b978aa3e0bd4bcd7c9458463df09e72739ceeb45f6e588af1da5770e8b59137"
	block := []Source{
		{Location: "hosts", Data: syntheticList(n, "hosts", 1)},
		{Location: "urls", Data: syntheticList(n/2, "urls", 2)},
		{Location: "abp", Data: syntheticList(n/2, "abp", 3), Format: FormatABP},
	}
	allow := []Source{{Location: "allow", Data: syntheticList(n/50, "hosts", 4)}}
	r, err := Compile(context.Background(), block, allow, Options{TestIdentity: true})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, k := range r.Keys {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	report, err := json.Marshal(r.Report) // maps marshal in key order
	if err != nil {
		t.Fatal(err)
	}
	h.Write(report)
	got := hex.EncodeToString(h.Sum(nil))
	t.Logf("keys=%d dropped=%v", len(r.Keys), r.Report.Dropped)
	if got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
}
