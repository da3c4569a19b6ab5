package api

import (
	"os"
	"path/filepath"
	"testing"
)

// TestParseFileConfigRelativeBase checks that a relative base folder (a
// configuration named by a relative path, or serve --db's relative state
// folder) gives each path once: the defaults derived from dataDir are not
// joined with the base a second time.
func TestParseFileConfigRelativeBase(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		base, dataDir string
		want          string // dataDir, absolute
	}{
		{"conf", "state", filepath.Join(wd, "conf", "state")},
		{"db/state", "db/state", filepath.Join(wd, "db", "state", "db", "state")},
		{".", "state", filepath.Join(wd, "state")},
		{"", "state", filepath.Join(wd, "state")},
		{"conf", "/var/lib/blindlist", "/var/lib/blindlist"},
	} {
		cfg := `{"listen": "127.0.0.1:8080", "dataDir": "` + tc.dataDir + `",
		  "vendors": [{"name": "v", "usecases": [{"name": "com.example.app.url.filtering", "directory": "db", "shardCount": 1}],
		    "tiers": [{"name": "t", "tokensFile": "tokens"}]}]}`
		c, err := ParseFileConfig([]byte(cfg), tc.base)
		if err != nil {
			t.Fatalf("base %q: %v", tc.base, err)
		}
		base, _ := filepath.Abs(tc.base)
		for name, got := range map[string][2]string{
			"dataDir":                  {c.DataDir, tc.want},
			"keyStore.path":            {c.KeyStore.Path, filepath.Join(tc.want, "evaluation-keys.db")},
			"privacyPass.keyDirectory": {c.PrivacyPass.KeyDirectory, filepath.Join(tc.want, "issuer-keys")},
			"usecase directory":        {c.Vendors[0].Usecases[0].Directory, filepath.Join(base, "db")},
			"tokensFile":               {c.Vendors[0].Tiers[0].TokensFile, filepath.Join(base, "tokens")},
		} {
			if got[0] != got[1] {
				t.Errorf("base %q, dataDir %q: %s = %q, want %q", tc.base, tc.dataDir, name, got[0], got[1])
			}
		}
	}
}
