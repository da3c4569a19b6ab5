package privacypass

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/cputime"
	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/cloudflare/circl/blindsign/blindrsa"
)

// BenchmarkPrivacyPass compares our issuance and verification with circl's
// plain blind RSA on the same key and inputs (Apple's vector request and
// token), one core: go test -bench PrivacyPass -cpu 1 ./api/privacypass/
func BenchmarkPrivacyPass(b *testing.B) {
	k := vectorKey(b)
	reqBytes := testvec.Read(b, "privacypass", "token_request_0.bin")
	req, err := ParseTokenRequest(reqBytes)
	if err != nil {
		b.Fatal(err)
	}
	tok := testvec.Read(b, "privacypass", "token_0.bin")
	ring, err := NewKeyring([]KeySpec{{Key: k, Tier: "t"}})
	if err != nil {
		b.Fatal(err)
	}
	block, _ := pem.Decode(testvec.Read(b, "privacypass", "issuer_private_key.pem"))
	rk, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("Issue/blindlist-ct", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := k.Issue(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Issue/circl-BlindSign", func(b *testing.B) {
		signer := blindrsa.NewSigner(rk)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := signer.BlindSign(req.BlindedMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verify/blindlist", func(b *testing.B) {
		now := time.Now()
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, _, err := ring.CheckToken(tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verify/circl", func(b *testing.B) {
		v, err := blindrsa.NewVerifier(blindrsa.SHA384PSSDeterministic, &rk.PublicKey)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if err := v.Verify(tok[:authenticatorInputSize], tok[authenticatorInputSize:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU starts a CPU-time measurement; the returned function reports
// cpu-ns/op. Use as: defer reportCPU(b)().
func reportCPU(b *testing.B) func() {
	start := cputime.Process()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
