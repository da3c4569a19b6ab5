package privacypass_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/store"
)

// Example issues a token with a fresh key and redeems it twice: the second
// redemption is refused.
func Example() {
	key, err := privacypass.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	ring, err := privacypass.NewKeyring([]privacypass.KeySpec{{Key: key, Tier: "tier1"}})
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "privacypass-example")
	defer os.RemoveAll(dir)
	db, err := store.OpenBolt(filepath.Join(dir, "spent.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	spent, err := db.SpentSet(privacypass.SpentNamespace, 0)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := privacypass.New(privacypass.Config{
		Keyring:    ring,
		UserTokens: map[string]string{"AAAA": "tier1"},
		Spent:      spent,
	})
	if err != nil {
		log.Fatal(err)
	}

	// What a device does, with the Go client: blind, send, finalize.
	pending, request, err := privacypass.NewTokenRequest(rand.Reader, key.Public(), []byte("challenge"))
	if err != nil {
		log.Fatal(err)
	}
	response, err := ring.Issue("tier1", request, svc.Now())
	if err != nil {
		log.Fatal(err)
	}
	token, err := pending.Finalize(response)
	if err != nil {
		log.Fatal(err)
	}

	tier, err := svc.Verify(context.Background(), token)
	fmt.Println(tier, err)
	_, err = svc.Verify(context.Background(), token)
	fmt.Println(err)
	// Output:
	// tier1 <nil>
	// privacypass: token already spent
}
