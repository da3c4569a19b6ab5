package pir

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/he/bfv"
)

// ValidationReport summarises test lookups on one shard, as Apple's
// PIRProcessDatabase logs after its validation trials.
type ValidationReport struct {
	// Trials is the number of lookups run (present keywords plus one absent).
	Trials int
	// MinNoiseBudget is the smallest noise budget (bits) of any response
	// ciphertext, measured with the test secret key. Decryption needs > 0.
	// Never reveal it to another party.
	MinNoiseBudget float64
	// QueryBytes, KeyBytes and ResponseBytes are serialized sizes.
	QueryBytes, KeyBytes, ResponseBytes int
	// MeanAnswer is the mean server time per lookup.
	MeanAnswer time.Duration
}

// ValidateShard runs trials lookups of keywords from rows (present in db)
// and one of a random absent keyword with a fresh client against db, checking
// every result. rows must be the rows db was built from.
func ValidateShard(ctx context.Context, db *Database, rows []Row, trials int, rnd io.Reader) (*ValidationReport, error) {
	s, err := NewServer([]*Database{db}, ServerOptions{})
	if err != nil {
		return nil, err
	}
	cc, err := ClientConfigFromResponse(s.Config().ConfigResponse("validation"), "validation")
	if err != nil {
		return nil, err
	}
	c, err := NewClient(cc, rnd)
	if err != nil {
		return nil, err
	}
	upload, err := c.EvaluationKey(0, rnd)
	if err != nil {
		return nil, err
	}
	key, err := s.ParseEvaluationKey(upload.GetEvaluationKey())
	if err != nil {
		return nil, err
	}
	rep := &ValidationReport{MinNoiseBudget: math.Inf(1), KeyBytes: proto.Size(upload.GetEvaluationKey())}
	absent := make([]byte, 32)
	if _, err := io.ReadFull(rnd, absent); err != nil {
		return nil, fmt.Errorf("pir: validation: %w", err)
	}
	var total time.Duration
	for i := 0; i <= trials; i++ {
		var want *Row
		kw := absent
		if i < trials && len(rows) > 0 {
			want = &rows[i*len(rows)/max(trials, 1)]
			kw = want.Keyword
		}
		q, req, err := c.NewQuery(kw, nil, rnd)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		resp, err := s.Answer(ctx, req, key)
		if err != nil {
			return nil, fmt.Errorf("pir: validation lookup %d: %w", i, err)
		}
		total += time.Since(start)
		rep.Trials++
		rep.QueryBytes, rep.ResponseBytes = proto.Size(req.GetQuery()), proto.Size(resp)
		for _, reply := range resp.GetReplies() {
			for _, m := range reply.GetCiphertexts() {
				ct, err := ciphertextFromProto(c.bp, m, 1, bfv.Coeff)
				if err != nil {
					return nil, err
				}
				nb, err := c.bp.NoiseBudget(c.sk, ct)
				if err != nil {
					return nil, err
				}
				rep.MinNoiseBudget = min(rep.MinNoiseBudget, nb)
			}
		}
		v, found, err := c.Decrypt(q, resp)
		switch {
		case err != nil:
			return nil, fmt.Errorf("pir: validation lookup %d: %w", i, err)
		case want != nil && (!found || !bytes.Equal(v, want.Value)):
			return nil, fmt.Errorf("pir: validation: keyword %q not found with its value", want.Keyword)
		case want == nil && found:
			return nil, fmt.Errorf("pir: validation: a random absent keyword was found")
		}
	}
	rep.MeanAnswer = total / time.Duration(rep.Trials)
	return rep, nil
}
