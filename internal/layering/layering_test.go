// Package layering holds one test: it enforces the import rules of
// shared/style.md §2.1, so that the HE layer stays free of protobuf and
// networking, the leaves stay leaves, and only the wiring layer sees it all.
package layering

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/blindlist/blindlist"

// rule says which of our packages (by module-relative prefix) a package may
// import, and which outside imports it must not use.
type rule struct {
	pkg        string   // module-relative package path prefix the rule applies to
	mayImport  []string // module-relative prefixes it may import (itself always allowed)
	forbidExts []string // outside import path prefixes it must not use
}

var rules = []rule{
	{pkg: "pir/he/modq", mayImport: nil, forbidExts: []string{"google.golang.org/protobuf", "net/http"}},
	{pkg: "pir/he/drbg", mayImport: nil, forbidExts: []string{"google.golang.org/protobuf", "net/http"}},
	// A leaf: the kernel level chosen at program start (BLINDLIST_KERNELS).
	{pkg: "pir/he/kernels", mayImport: nil, forbidExts: []string{"google.golang.org/protobuf", "net/http"}},
	{pkg: "pir/he/ring", mayImport: []string{"pir/he/modq", "pir/he/drbg", "pir/he/kernels"}, forbidExts: []string{"google.golang.org/protobuf", "net/http"}},
	{pkg: "pir/he/bfv", mayImport: []string{"pir/he/modq", "pir/he/ring", "pir/he/drbg", "pir/he/kernels"}, forbidExts: []string{"google.golang.org/protobuf", "net/http"}},
	{pkg: "pir/pb", mayImport: []string{"pir/pb"}},
	{pkg: "pir/heproto", mayImport: []string{"pir/he", "pir/pb", "internal/testvec"}, forbidExts: []string{"net/http"}},
	{pkg: "bloom", mayImport: []string{"internal/testvec", "internal/atomicfile"}},
	{pkg: "blocklist", mayImport: []string{"internal/testvec", "internal/atomicfile", "internal/pipewriter", "internal/pargzip"}},
	{pkg: "ohttp", mayImport: []string{"ohttp"}},
	{pkg: "internal/store", mayImport: []string{"internal/store"}},
	// A leaf: the durable file writer shared by bloom, blocklist, pir and api.
	{pkg: "internal/atomicfile", mayImport: nil},
	{pkg: "internal/pipewriter", mayImport: nil},
	{pkg: "internal/pargzip", mayImport: nil},
	// A leaf: the redacting error log of every http.Server we run.
	{pkg: "internal/httplog", mayImport: nil},
	{pkg: "api/privacypass", mayImport: []string{"api/privacypass", "internal/store", "internal/testvec"}},
	{pkg: "pir", mayImport: []string{"pir/he", "pir/pb", "pir/heproto", "internal/testvec", "internal/atomicfile"}, forbidExts: []string{"net/http"}},
	// The build package joins the leaves bloom and blocklist with pir; it sits
	// below api and cmd.
	{pkg: "generation", mayImport: []string{"bloom", "blocklist", "pir", "internal/atomicfile", "internal/pipewriter", "internal/testvec"}},
	// The service sits on pir and the issuer; it never reaches into HE or OHTTP.
	{pkg: "api", mayImport: []string{"api/privacypass", "internal/store", "internal/atomicfile", "generation", "pir", "pir/pb", "internal/testvec"}},
}

// ruleFor returns the most specific rule for a module-relative package path.
func ruleFor(rel string) (rule, bool) {
	best, found := rule{}, false
	for _, r := range rules {
		if rel == r.pkg || strings.HasPrefix(rel, r.pkg+"/") {
			if !found || len(r.pkg) > len(best.pkg) {
				best, found = r, true
			}
		}
	}
	return best, found
}

func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "deploy") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		r, ok := ruleFor(rel)
		if !ok {
			return nil
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			if _, noGo := err.(*build.NoGoError); noGo {
				return nil
			}
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		checked++
		// Production imports only: tests may reach further (vectors, fixtures).
		for _, imp := range pkg.Imports {
			checkImport(t, rel, r, imp)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("layering: no package checked; is the module root right?")
	}
}

func checkImport(t *testing.T, rel string, r rule, imp string) {
	t.Helper()
	if strings.HasPrefix(imp, module+"/") {
		target := strings.TrimPrefix(imp, module+"/")
		if target == r.pkg || strings.HasPrefix(target, r.pkg+"/") || target == rel {
			return
		}
		for _, ok := range r.mayImport {
			if target == ok || strings.HasPrefix(target, ok+"/") {
				return
			}
		}
		t.Errorf("layering: %s imports %s, which style.md §2.1 forbids", rel, target)
		return
	}
	for _, bad := range r.forbidExts {
		if imp == bad || strings.HasPrefix(imp, bad+"/") {
			t.Errorf("layering: %s imports %s, which style.md §2.1 forbids", rel, imp)
		}
	}
}

func TestRuleFor(t *testing.T) {
	tests := []struct {
		rel, want string
		ok        bool
	}{
		{"pir/he/bfv", "pir/he/bfv", true},
		{"pir/pb/hepb", "pir/pb", true},
		{"pir", "pir", true},
		{"pir/heproto", "pir/heproto", true},
		{"api/privacypass", "api/privacypass", true},
		{"api", "api", true},
		{"generation", "generation", true},
		{"internal/atomicfile", "internal/atomicfile", true},
		{"api/privacypass/internal/ctrsa", "api/privacypass", true},
		{"cmd/blindlist", "", false},
	}
	for _, tt := range tests {
		r, ok := ruleFor(tt.rel)
		if ok != tt.ok || r.pkg != tt.want {
			t.Errorf("ruleFor(%q) = %q, %v; want %q, %v", tt.rel, r.pkg, ok, tt.want, tt.ok)
		}
	}
}
