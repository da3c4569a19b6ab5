package main

// The symmetric-PIR OPRF round (pir-spec §5) for the file-based device tools
// 'blindlist pir query' and 'blindlist pir decrypt'. The blinds are not
// stored: a 32-byte secret seed (the --oprf-state file, mode 0600) derives
// the blind of keyword i, so each step re-derives the same blinded queries,
// verifies the server's OPRFResponses against the config's public key and
// recomputes the keywords' OPRF outputs.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/blindlist/blindlist/internal/atomicfile"
	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// oprfSeedBytes is the size of the --oprf-state file.
const oprfSeedBytes = 32

// blindStream is the deterministic randomness of keyword i's blind:
// SHA-256(seed || "blindlist oprf blind" || u32be(i) || u32be(block)),
// block by block.
type blindStream struct {
	seed  []byte
	i     uint32
	block uint32
	buf   []byte
}

func (s *blindStream) Read(p []byte) (int, error) {
	for len(s.buf) < len(p) {
		h := sha256.New()
		h.Write(s.seed)
		h.Write([]byte("blindlist oprf blind"))
		h.Write(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, s.i), s.block))
		s.block++
		s.buf = h.Sum(s.buf)
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// newOPRFState writes a fresh seed to path (0600).
func newOPRFState(path string) ([]byte, error) {
	seed := make([]byte, oprfSeedBytes)
	if _, err := io.ReadFull(rand.Reader, seed); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteBytes(path, 0o600, seed); err != nil {
		return nil, err
	}
	return seed, nil
}

// readOPRFState reads a seed written by newOPRFState.
func readOPRFState(path string) ([]byte, error) {
	seed, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(seed) != oprfSeedBytes {
		return nil, fmt.Errorf("%s is not an OPRF state file (%d bytes, want %d)", path, len(seed), oprfSeedBytes)
	}
	return seed, nil
}

// oprfQueries re-derives the OPRF queries of keywords from seed.
func oprfQueries(c *pir.Client, seed []byte, keywords []string) ([]*pir.OPRFQuery, []*apipb.OPRFRequest, error) {
	qs := make([]*pir.OPRFQuery, len(keywords))
	reqs := make([]*apipb.OPRFRequest, len(keywords))
	for i, kw := range keywords {
		q, r, err := c.NewOPRFRequest([]byte(kw), &blindStream{seed: seed, i: uint32(i)})
		if err != nil {
			return nil, nil, err
		}
		qs[i], reqs[i] = q, r
	}
	return qs, reqs, nil
}

// oprfOutputs verifies the OPRF Responses in respPath for keywords (queries
// re-derived from the seed in statePath) and returns each keyword's output.
func oprfOutputs(c *pir.Client, statePath, respPath string, keywords []string) ([]*oprf.Output, error) {
	if statePath == "" || respPath == "" {
		return nil, errors.New("the usecase is symmetric PIR: give --oprf-state and --oprf-responses (see the usage)")
	}
	seed, err := readOPRFState(statePath)
	if err != nil {
		return nil, err
	}
	qs, _, err := oprfQueries(c, seed, keywords)
	if err != nil {
		return nil, err
	}
	resps := &apipb.Responses{}
	if err := readProto(respPath, "Responses", resps); err != nil {
		return nil, err
	}
	if len(resps.GetResponses()) != len(keywords) {
		return nil, fmt.Errorf("%s holds %d OPRF responses for %d keywords", respPath, len(resps.GetResponses()), len(keywords))
	}
	outs := make([]*oprf.Output, len(keywords))
	for i, r := range resps.GetResponses() {
		or := r.GetOprfResponse()
		if or == nil {
			return nil, fmt.Errorf("%s: response %d is not an OPRF response", respPath, i)
		}
		if outs[i], err = c.FinishOPRF(qs[i], or); err != nil {
			return nil, fmt.Errorf("%s: response %d: %w", respPath, i, err)
		}
	}
	return outs, nil
}
