// Package generation is the build pipeline of blindlist: block and allow
// lists (package blocklist) are compiled into the device's key space, then
// written in one pass as the Bloom prefilter (package bloom), the key files,
// the keyword-PIR shards in Apple's PIRProcessDatabase layout (package pir)
// and the manifests that describe them.
//
// For most uses, call Build with a Config naming the sources:
//
//	res, err := generation.Build(ctx, "out", generation.Config{
//		Block:     []blocklist.Source{src},
//		Tolerance: 0.001,
//	})
//
// A build into a directory that holds an earlier build with the same PIR
// settings and shard count reprocesses only the shards whose keys changed
// (see PIRManifest). A failure anywhere leaves the directory as it was.
//
// The CLI ('blindlist build') and the refresh loop of 'blindlist serve' both
// call this package; it sits above bloom, blocklist and pir and below api
// and cmd (shared/style.md §2.1).
package generation
