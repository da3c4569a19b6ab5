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

// dnsList returns an n-line blocklist in a resolver format, of distinct
// names shaped like hostsFile's: "rpz" as hagezi publishes it (a header,
// then each domain and its wildcard: n/2 domains), "rpz-general" with a
// TTL and class on every record (the shape the fast path leaves to the
// zone parser), "dnsmasq" (address=/d/#) and "unbound" (local-zone
// always_null).
func dnsList(n int, style string) []byte {
	var b strings.Builder
	switch style {
	case "rpz", "rpz-general":
		b.WriteString("$TTL 3600\n@ SOA localhost. root.localhost. 1 14400 3600 86400 3600\n  NS  localhost.\n; Syntax: RPZ\n")
	case "unbound":
		b.WriteString("server:\n")
	}
	for i := range n {
		d := fmt.Sprintf("host%d.ads-%d.example.org", i, i%9973)
		switch style {
		case "rpz":
			d = fmt.Sprintf("host%d.ads-%d.example.org", i/2, i/2%9973)
			if i%2 == 0 {
				fmt.Fprintf(&b, "%s CNAME .\n", d)
			} else {
				fmt.Fprintf(&b, "*.%s CNAME .\n", d)
			}
		case "rpz-general":
			fmt.Fprintf(&b, "%s 3600 IN CNAME .\n", d)
		case "dnsmasq":
			fmt.Fprintf(&b, "address=/%s/#\n", d)
		case "unbound":
			fmt.Fprintf(&b, "local-zone: \"%s.\" always_null\n", d)
		}
	}
	return []byte(b.String())
}

// BenchmarkCompileDNS measures Compile on 1,000,000-line lists in the
// resolver formats, held in memory, and reports input lines per second of
// wall time and process CPU time per op.
func BenchmarkCompileDNS(b *testing.B) {
	const lines = 1_000_000
	for _, style := range []string{"rpz", "rpz-general", "dnsmasq", "unbound"} {
		data := dnsList(lines, style)
		format, _ := ParseFormat(strings.TrimSuffix(style, "-general"))
		b.Run(fmt.Sprintf("%s/lines=1M", style), func(b *testing.B) {
			src := []Source{{Location: style, Format: format, Data: data}}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				if _, err := Compile(context.Background(), src, nil, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			if cpu := cputime.Process() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
