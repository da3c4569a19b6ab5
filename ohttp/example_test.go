package ohttp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/blindlist/blindlist/ohttp"
)

// Example runs a gateway in front of an in-process service, a relay in front
// of the gateway, and sends an ordinary request through both.
func Example() {
	service := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s got %q", r.Method, r.URL.Path, body)
	})

	seed := make([]byte, ohttp.SeedSize) // in production: ohttp.LoadOrCreateSeed
	keys, err := ohttp.DeriveKeySet(seed, []uint8{1}, nil, ohttp.DefaultSuites())
	if err != nil {
		panic(err)
	}
	gw, err := ohttp.New(ohttp.Config{
		Keys:    keys,
		Targets: map[string]http.Handler{"service.example.net": service},
	})
	if err != nil {
		panic(err)
	}
	gateway := httptest.NewServer(gw.Handler())
	defer gateway.Close()

	relay, err := ohttp.NewRelay(ohttp.RelayConfig{GatewayURL: gateway.URL + ohttp.GatewayPath})
	if err != nil {
		panic(err)
	}
	relayServer := httptest.NewServer(relay.Handler())
	defer relayServer.Close()

	client := &http.Client{Transport: &ohttp.Client{
		RelayURL:  relayServer.URL,
		KeyConfig: keys.Configs()[0], // in production: fetched from ohttp.KeysPath
	}}
	resp, err := client.Post("https://service.example.net/queries", "application/octet-stream", strings.NewReader("query"))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// 200 POST /queries got "query"
}

// ExampleParseKeyConfigs decodes an application/ohttp-keys body.
func ExampleParseKeyConfigs() {
	seed := make([]byte, ohttp.SeedSize)
	keys, err := ohttp.DeriveKeySet(seed, []uint8{1, 2}, nil, ohttp.DefaultSuites()[:1])
	if err != nil {
		panic(err)
	}
	configs, err := ohttp.ParseKeyConfigs(keys.MarshalConfigs())
	if err != nil {
		panic(err)
	}
	for _, c := range configs {
		fmt.Printf("key id %d, KEM 0x%04x, %d-byte public key, suites %v\n", c.KeyID, c.KEM, len(c.PublicKey), c.Suites)
	}
	// Output:
	// key id 1, KEM 0x0020, 32-byte public key, suites [{1 1}]
	// key id 2, KEM 0x0020, 32-byte public key, suites [{1 1}]
}
