package api_test

import (
	"fmt"

	"github.com/blindlist/blindlist/api"
)

func ExampleParseFileConfig() {
	fc, err := api.ParseFileConfig([]byte(`{
	  "listen": "127.0.0.1:8080",
	  "dataDir": "state",
	  "vendors": [{
	    "name": "example",
	    "usecases": [{"name": "com.example.app.url.filtering", "directory": "db", "shardCount": 1}],
	    "tiers": [{"name": "tier1", "tokensFile": "tier1-tokens"}]
	  }]
	}`), "/etc/blindlist")
	if err != nil {
		fmt.Println(err)
		return
	}
	u := fc.Vendors[0].Usecases[0]
	fmt.Println(u.Directory, u.FileStem, u.VersionCount, fc.KeyStore.Backend, fc.KeyStore.Path)

	_, err = api.ParseFileConfig([]byte(`{"listen": "127.0.0.1:8080", "datadir": "state"}`), "/")
	fmt.Println(err)
	// Output:
	// /etc/blindlist/db url 2 bbolt /etc/blindlist/state/evaluation-keys.db
	// api: config: json: unknown field "datadir"
}
