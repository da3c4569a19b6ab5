package blocklist

import _ "embed"

//go:embed demo.txt
var demoList []byte

// DemoSource returns the built-in demo list: a few reserved example names
// in hosts, AdBlock, URL and domain syntax, for trying a build without any
// outside service.
func DemoSource() Source {
	return Source{Location: "builtin:demo", Data: demoList}
}
