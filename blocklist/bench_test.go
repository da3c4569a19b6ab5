package blocklist

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/internal/cputime"
)

// hostsFile returns an n-line hosts file of distinct names with the mix of
// case, www. and comments real lists have; the same shape as the
// cmd/blindlist build benchmark's file.
func hostsFile(n int) []byte {
	var b strings.Builder
	b.WriteString("# generated hosts file\n127.0.0.1 localhost\n")
	for i := range n {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "0.0.0.0 www.Ads%d.tracker-%d.example.com\n", i, i%5003)
		case 1:
			fmt.Fprintf(&b, "0.0.0.0 cdn%d.metrics-%d.example.net # note\n", i, i%7919)
		default:
			fmt.Fprintf(&b, "0.0.0.0 host%d.ads-%d.example.org\n", i, i%9973)
		}
	}
	return []byte(b.String())
}

// BenchmarkCompile measures Compile on a 1,000,000-line hosts file held in
// memory (parse, normalise, dedupe, parent check, sort) and on the mixed
// synthetic corpus of TestCompileDigest scaled to 300,000 lines.
func BenchmarkCompile(b *testing.B) {
	hosts := hostsFile(1_000_000)
	mixed := []Source{
		{Location: "hosts", Data: syntheticList(150_000, "hosts", 1)},
		{Location: "urls", Data: syntheticList(75_000, "urls", 2)},
		{Location: "abp", Data: syntheticList(75_000, "abp", 3), Format: FormatABP},
	}
	for _, bc := range []struct {
		name  string
		srcs  []Source
		bytes int
	}{
		{"hosts=1M", []Source{{Location: "hosts", Data: hosts}}, len(hosts)},
		{"mixed=300k", mixed, len(mixed[0].Data) + len(mixed[1].Data) + len(mixed[2].Data)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(bc.bytes))
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				if _, err := Compile(context.Background(), bc.srcs, nil, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := cputime.Process() - cpu0; cpu > 0 {
				// Process CPU time, GC included: unlike ns/op, machine load
				// does not inflate it.
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
