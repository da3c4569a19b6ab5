package oprf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// detReader is a deterministic byte stream (SHA-256 in counter mode) so that
// tests that need many random scalars stay reproducible.
type detReader struct {
	seed  string
	n     uint64
	buf   []byte
	count int
}

func (r *detReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", r.seed, r.n))
		r.n++
		r.buf = append(r.buf, h[:]...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.count += n
	return n, nil
}

func testKey(t testing.TB, seed string) *PrivateKey {
	t.Helper()
	k, err := GenerateKey(&detReader{seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// roundTrip runs blind, evaluate, finalize for keyword against key k.
func roundTrip(t testing.TB, k *PrivateKey, keyword []byte) *Output {
	t.Helper()
	pk, err := ParsePublicKey(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	q, err := pk.Blind(keyword, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ev, proof, err := k.Evaluate(q.Element(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pk.Finalize(q, ev, proof)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	k := testKey(t, "round trip")
	for _, kw := range [][]byte{nil, []byte("a"), []byte("example.com"), bytes.Repeat([]byte{0xff}, 300)} {
		t.Run(fmt.Sprintf("len=%d", len(kw)), func(t *testing.T) {
			o1 := roundTrip(t, k, kw)
			o2 := roundTrip(t, k, kw)
			direct, err := k.Output(kw)
			if err != nil {
				t.Fatal(err)
			}
			if o1.out != o2.out || o1.out != direct.out {
				t.Fatalf("outputs differ: blinded %x, %x; direct %x", o1.out, o2.out, direct.out)
			}
		})
	}
	// Two blindings of one keyword send different elements (Apple's
	// oprfRoundtrip test checks the same).
	pk, _ := ParsePublicKey(k.PublicKey())
	q1, _ := pk.Blind([]byte("x"), rand.Reader)
	q2, _ := pk.Blind([]byte("x"), rand.Reader)
	if bytes.Equal(q1.Element(), q2.Element()) {
		t.Error("two blindings gave the same element")
	}
	// Different keywords and different keys give different outputs.
	a := roundTrip(t, k, []byte("a"))
	b := roundTrip(t, k, []byte("b"))
	c := roundTrip(t, testKey(t, "other"), []byte("a"))
	if a.out == b.out || a.out == c.out {
		t.Error("outputs collide across keywords or keys")
	}
}

// TestFinalizeRefuses checks that the client refuses every evaluation that
// is not the server's honest answer to its own query.
func TestFinalizeRefuses(t *testing.T) {
	k := testKey(t, "server")
	pk, _ := ParsePublicKey(k.PublicKey())
	q, err := pk.Blind([]byte("example.com"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ev, proof, err := k.Evaluate(q.Element(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other := testKey(t, "impostor")
	evOther, proofOther, _ := other.Evaluate(q.Element(), rand.Reader)
	q2, _ := pk.Blind([]byte("other.example"), rand.Reader)
	ev2, proof2, _ := k.Evaluate(q2.Element(), rand.Reader)

	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 1
		return c
	}
	// A different valid point: the evaluation of another query.
	cases := []struct {
		name        string
		ev, proof   []byte
		wantErr     error
		wantMessage string
	}{
		{"other key", evOther, proofOther, ErrProof, ""},
		{"other key's element, honest proof", evOther, proof, ErrProof, ""},
		{"another query's answer", ev2, proof2, ErrProof, ""},
		{"proof c flipped", ev, flip(proof, 40), ErrProof, ""},
		{"proof s flipped", ev, flip(proof, 90), ErrProof, ""},
		{"proof halves swapped", ev, append(bytes.Clone(proof[48:]), proof[:48]...), ErrProof, ""},
		{"element sign flipped", flip(ev, 0), proof, ErrProof, ""},
		{"element x flipped", flip(ev, 30), proof, ErrMalformed, ""},
		{"element short", ev[:48], proof, ErrMalformed, ""},
		{"element long", append(bytes.Clone(ev), 0), proof, ErrMalformed, ""},
		{"element uncompressed prefix", append([]byte{4}, ev[1:]...), proof, ErrMalformed, ""},
		{"identity", []byte{0}, proof, ErrMalformed, ""},
		{"proof short", ev, proof[:95], ErrMalformed, ""},
		{"proof long", ev, append(bytes.Clone(proof), 0), ErrMalformed, ""},
		{"proof scalar >= n", ev, append(bytes.Repeat([]byte{0xff}, 48), proof[48:]...), ErrMalformed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := pk.Finalize(q, c.ev, c.proof)
			if !errors.Is(err, c.wantErr) {
				// flipping x may by chance land on another curve point
				// (about half of x values are); that must then fail the proof.
				if !(c.wantErr == ErrMalformed && errors.Is(err, ErrProof)) {
					t.Fatalf("got output %v, error %v; want %v", out, err, c.wantErr)
				}
			}
		})
	}
	if _, err := pk.Finalize(q, ev, proof); err != nil {
		t.Fatalf("honest answer refused: %v", err)
	}
}

func TestEvaluateRefuses(t *testing.T) {
	k := testKey(t, "server")
	pk, _ := ParsePublicKey(k.PublicKey())
	q, _ := pk.Blind([]byte("k"), rand.Reader)
	el := q.Element()
	notOnCurve := bytes.Clone(el)
	// Find an x with no point: flip bytes until parsing fails.
	for i := 0; ; i++ {
		notOnCurve[48] = byte(i)
		if _, err := parseElement(notOnCurve, "x"); err != nil {
			break
		}
	}
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"identity", []byte{0}},
		{"short", el[:48]},
		{"long", append(bytes.Clone(el), 1)},
		{"uncompressed prefix", append([]byte{4}, el[1:]...)},
		{"prefix 0x05", append([]byte{5}, el[1:]...)},
		{"not on curve", notOnCurve},
		{"x >= p", append([]byte{2}, bytes.Repeat([]byte{0xff}, 48)...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := k.Evaluate(c.in, rand.Reader); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
	if _, _, err := k.Evaluate(el, bytes.NewReader(nil)); err == nil {
		t.Error("empty random source accepted")
	}
	if _, _, err := k.Evaluate(el, bytes.NewReader(bytes.Repeat([]byte{0xff}, 1000))); err == nil {
		t.Error("random source of all 0xff (no scalar < n) accepted")
	}
}

func TestPrivateKeyEncodings(t *testing.T) {
	n := "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"
	for _, c := range []struct {
		name string
		hex  string
		ok   bool
	}{
		{"one", strings.Repeat("0", 94) + "01", true},
		{"n-1", n[:94] + "72", true},
		{"zero", strings.Repeat("0", 96), false},
		{"n", n, false},
		{"all ff", strings.Repeat("ff", 48), false},
		{"short", strings.Repeat("01", 47), false},
		{"long", strings.Repeat("01", 49), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := hex.DecodeString(c.hex)
			_, err := NewPrivateKey(b)
			if (err == nil) != c.ok {
				t.Fatalf("NewPrivateKey: err = %v, want ok = %v", err, c.ok)
			}
			_, err = ParseKeyFile([]byte(c.hex))
			if (err == nil) != c.ok {
				t.Fatalf("ParseKeyFile: err = %v, want ok = %v", err, c.ok)
			}
		})
	}
	if _, err := GenerateKey(nil); err == nil {
		t.Error("nil random source accepted")
	}
}

func TestKeyFile(t *testing.T) {
	k := testKey(t, "file")
	data := k.MarshalKeyFile()
	if len(data) != 96 || strings.ToLower(string(data)) != string(data) || bytes.ContainsAny(data, " \n") {
		t.Fatalf("key file %q is not 96 lowercase hex digits", data)
	}
	for _, c := range []struct {
		name string
		data string
		ok   bool
	}{
		{"as written", string(data), true},
		{"final newline", string(data) + "\n", true},
		{"upper case", strings.ToUpper(string(data)), true},
		{"CRLF and spaces", "  " + string(data) + "\r\n", true},
		{"inner space", string(data[:10]) + " " + string(data[10:95]), false},
		{"0x prefix", "0x" + string(data[:94]), false},
		{"not hex", "zz" + string(data[2:]), false},
		{"empty", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseKeyFile([]byte(c.data))
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok = %v", err, c.ok)
			}
			if err == nil && !bytes.Equal(got.Bytes(), k.Bytes()) {
				t.Fatal("parsed a different key")
			}
			if err != nil && strings.Contains(err.Error(), string(data[:20])) {
				t.Fatal("error message contains key bytes")
			}
		})
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "spir-key.txt")
	created, isNew, err := CreateKeyFile(path, rand.Reader)
	if err != nil || !isNew {
		t.Fatalf("CreateKeyFile: %v, created %v", err, isNew)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, isNew, err := CreateKeyFile(path, rand.Reader)
	if err != nil || isNew || !bytes.Equal(again.PublicKey(), created.PublicKey()) {
		t.Fatalf("second CreateKeyFile: %v, created %v, same key %v", err, isNew, err == nil && bytes.Equal(again.PublicKey(), created.PublicKey()))
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := CreateKeyFile(path, rand.Reader); err == nil {
		t.Error("CreateKeyFile replaced or accepted a corrupt key file")
	}
	if got, _ := os.ReadFile(path); string(got) != "garbage" {
		t.Error("CreateKeyFile overwrote an existing file")
	}
}

// TestKeyNotPrinted checks that formatting a key, a query or an output does
// not print secret bytes.
func TestKeyNotPrinted(t *testing.T) {
	k := testKey(t, "print")
	secret := hex.EncodeToString(k.Bytes())
	out := roundTrip(t, k, []byte("kw"))
	pk, _ := ParsePublicKey(k.PublicKey())
	q, _ := pk.Blind([]byte("kw"), rand.Reader)
	for _, s := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k),
		fmt.Sprint(out), fmt.Sprint(q),
	} {
		if strings.Contains(s, secret[:16]) || strings.Contains(s, hex.EncodeToString(out.out[24:32])) {
			t.Errorf("formatted value %q contains secret bytes", s)
		}
	}
}

// TestProcessRow checks Apple's byte split independently: the oblivious
// keyword is out[0:16], and the value opens with AES-192-GCM under key
// out[24:48] and nonce out[0:12] (Apple's SymmetricPIRTests.database does
// the same), and a one-byte difference in the nonce fails.
func TestProcessRow(t *testing.T) {
	k := testKey(t, "rows")
	for _, value := range [][]byte{{}, {1}, []byte("a value of some length")} {
		kw := []byte("keyword-" + string(value))
		okw, enc, err := k.ProcessRow(kw, value)
		if err != nil {
			t.Fatal(err)
		}
		out := roundTrip(t, k, kw) // the client's view
		if !bytes.Equal(okw, out.out[:16]) || len(okw) != ObliviousKeywordSize {
			t.Fatalf("oblivious keyword %x, want output[0:16] %x", okw, out.out[:16])
		}
		if len(enc) != len(value)+TagSize {
			t.Fatalf("encrypted value is %d bytes, want %d", len(enc), len(value)+TagSize)
		}
		block, _ := aes.NewCipher(out.out[24:48])
		if block == nil || len(out.out[24:48]) != 24 {
			t.Fatal("want an AES-192 key")
		}
		gcm, _ := cipher.NewGCM(block)
		plain, err := gcm.Open(nil, out.out[:12], enc, nil)
		if err != nil || !bytes.Equal(plain, value) {
			t.Fatalf("independent AES-192-GCM open: %v, %x", err, plain)
		}
		if _, err := gcm.Open(nil, out.out[1:13], enc, nil); err == nil {
			t.Fatal("opened with a shifted nonce")
		}
		got, err := out.Decrypt(enc)
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("Decrypt: %v, %x", err, got)
		}
		tampered := bytes.Clone(enc)
		tampered[len(tampered)-1] ^= 1
		if _, err := out.Decrypt(tampered); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("tampered tag: got %v, want ErrDecrypt", err)
		}
		wrong := roundTrip(t, k, []byte("another keyword"))
		if _, err := wrong.Decrypt(enc); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("other keyword's key: got %v, want ErrDecrypt", err)
		}
	}
	out := roundTrip(t, k, []byte("x"))
	if _, err := out.Decrypt(make([]byte, 15)); !errors.Is(err, ErrMalformed) {
		t.Errorf("short value: got %v, want ErrMalformed", err)
	}
	if _, _, err := k.ProcessRow(make([]byte, MaxInputSize+1), nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("over-long keyword: got %v, want ErrMalformed", err)
	}
}

// TestProcessRowDigest pins the row transform: 64 rows under a key from a
// fixed seed, hashed into one digest. A change needs a written reason; the
// RFC vectors pin the VOPRF, TestProcessRow pins the byte split.
func TestProcessRowDigest(t *testing.T) {
	k := testKey(t, "digest")
	h := sha256.New()
	for i := range 64 {
		kw := fmt.Appendf(nil, "row-%d.example", i)
		okw, enc, err := k.ProcessRow(kw, bytes.Repeat([]byte{byte(i)}, i%7))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(okw)
		h.Write(enc)
	}
	const want = "8ce4920384166f2a4e0a4d46a1910c0e7942b86ce029244a80742a3286c05f17"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
}

// TestConcurrent evaluates and finalizes on one key and one public key from
// many goroutines (go test -race checks for shared mutable state: circl's
// encoders reduce coordinates in place).
func TestConcurrent(t *testing.T) {
	k := testKey(t, "concurrent")
	pk, _ := ParsePublicKey(k.PublicKey())
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			kw := fmt.Appendf(nil, "kw%d", g)
			q, err := pk.Blind(kw, rand.Reader)
			if err == nil {
				var ev, proof []byte
				if ev, proof, err = k.Evaluate(q.Element(), rand.Reader); err == nil {
					var out *Output
					if out, err = pk.Finalize(q, ev, proof); err == nil {
						if _, _, err = k.ProcessRow(kw, nil); err == nil {
							direct, _ := k.Output(kw)
							if direct.out != out.out {
								err = errors.New("outputs differ")
							}
						}
					}
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
